"""China's working calendar: statutory public holidays and the make-up working days (调休) that move them.

Every working-day time limit (the 15 working days of a filing review, complaint acknowledgement and
resolution) counts with it. The State Council announces each year's arrangement in the autumn before;
the data comes from the maintained ``chinese-calendar`` package (its tables, updated with each
announcement), so keeping it current is a dependency update.

A year the package does not know yet (the next year before its announcement, or a package not yet
updated) falls back to weekends only — Monday to Friday are working days — and says so: the year's
``GET /api/calendar/{year}`` answers ``known: false``, limits computed over it carry
``exact = False``, and the log warns once per year.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

from backend.core.clock import CHINA

log = logging.getLogger(__name__)

_HOLIDAY_ZH = {h.value: h.chinese for h in chinese_calendar.Holiday}
_KNOWN_YEARS = frozenset(d.year for d in chinese_calendar.holidays)


def year_known(year: int) -> bool:
    """Whether this year's holidays and make-up working days are in the calendar."""
    return year in _KNOWN_YEARS


@lru_cache(maxsize=32)
def _warn_unknown(year: int) -> None:
    log.warning(
        "China's working calendar for %d is not known (chinese-calendar has %d-%d): "
        "working days that year are Monday to Friday until the package is updated",
        year,
        min(_KNOWN_YEARS),
        max(_KNOWN_YEARS),
    )


def is_working_day(day: dt.date) -> bool:
    """A working day: Monday-Friday that is not a public holiday, or a make-up working weekend day."""
    if not year_known(day.year):
        _warn_unknown(day.year)
        return day.isoweekday() <= 5
    return bool(chinese_calendar.is_workday(day))


def public_holiday(day: dt.date) -> str | None:
    """The Chinese name of the public holiday this day belongs to (e.g. ``春节``), or None. Weekends that
    are part of a holiday period count; ordinary weekends and days of unknown years do not."""
    name = chinese_calendar.holidays.get(day) if year_known(day.year) else None
    return _HOLIDAY_ZH.get(name, name) if name else None


@dataclass(frozen=True, slots=True)
class Deadline:
    at: dt.datetime  # UTC
    exact: bool  # False when it crosses a year the calendar does not know (weekends only there)


def add_working_days(start: dt.datetime, days: int) -> Deadline:
    """The same local time of day on the ``days``-th working day after ``start``'s local day."""
    day = start.astimezone(CHINA)
    added, exact = 0, True
    while added < days:
        day += dt.timedelta(days=1)
        exact = exact and year_known(day.year)
        if is_working_day(day.date()):
            added += 1
    return Deadline(day.astimezone(dt.UTC), exact)


@dataclass(frozen=True, slots=True)
class YearCalendar:
    year: int
    known: bool
    holidays: list[tuple[dt.date, str]]  # every day off of a public holiday period, weekends included
    makeup_working_days: list[dt.date]  # weekend days that are working days (调休上班)


def year_calendar(year: int) -> YearCalendar:
    if not year_known(year):
        return YearCalendar(year, False, [], [])
    holidays = sorted((d, _HOLIDAY_ZH.get(n, n)) for d, n in chinese_calendar.holidays.items() if d.year == year)
    makeup = sorted(d for d in chinese_calendar.workdays if d.year == year)
    return YearCalendar(year, True, holidays, makeup)
