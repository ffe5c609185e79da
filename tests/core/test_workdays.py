"""China's working calendar (``core/workdays.py``): holidays, make-up working days, unknown years.

The facts are the State Council's published 2026 arrangement: Spring Festival off 15-23 February,
with Saturday 14 and Saturday 28 February worked; National Day off 1-7 October, Saturday 10 October
worked.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from backend.core import workdays
from backend.core.clock import CHINA


def local(y: int, m: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hour, tzinfo=CHINA)


def test_spring_festival_and_its_make_up_saturdays():
    assert workdays.public_holiday(dt.date(2026, 2, 17)) == "春节"
    assert workdays.public_holiday(dt.date(2026, 2, 15)) == "春节"  # a Sunday inside the holiday
    assert workdays.public_holiday(dt.date(2026, 3, 7)) is None  # an ordinary Saturday
    assert not workdays.is_working_day(dt.date(2026, 2, 16))  # a Monday off
    assert workdays.is_working_day(dt.date(2026, 2, 14))  # a Saturday worked
    assert workdays.is_working_day(dt.date(2026, 2, 28))
    assert not workdays.is_working_day(dt.date(2026, 3, 7))


def test_limits_skip_the_holiday_and_count_the_make_up_days():
    # Filed on Friday 13 February: the next working day is Saturday 14 (made up), then nothing until
    # Tuesday 24 (the holiday ends on Monday 23).
    start = local(2026, 2, 13)
    assert workdays.add_working_days(start, 1).at == local(2026, 2, 14).astimezone(dt.UTC)
    assert workdays.add_working_days(start, 2).at == local(2026, 2, 24).astimezone(dt.UTC)
    # A weekday-only count would have said Monday 16 and Tuesday 17.
    # 15: Sat 14 Feb; 24-27 Feb; Sat 28 Feb; 2-6 March; 9-12 March.
    fifteen = workdays.add_working_days(start, 15)
    assert fifteen.exact
    assert fifteen.at.astimezone(CHINA).date() == dt.date(2026, 3, 12)


def test_national_day_week():
    start = local(2026, 9, 30)  # Wednesday before the holiday
    due = workdays.add_working_days(start, 1).at.astimezone(CHINA).date()
    assert due == dt.date(2026, 10, 8)  # Thursday after it (1-7 October off)
    assert workdays.add_working_days(start, 3).at.astimezone(CHINA).date() == dt.date(2026, 10, 10)  # Saturday worked


def test_a_year_not_yet_known_counts_weekdays_and_says_so(caplog):
    year = max(d.year for d in workdays.chinese_calendar.holidays) + 1
    assert not workdays.year_known(year)
    with caplog.at_level(logging.WARNING, logger="backend.core.workdays"):
        due = workdays.add_working_days(dt.datetime(year, 3, 2, 10, tzinfo=CHINA), 5)
    assert not due.exact
    start = dt.date(year, 3, 2)
    expected, n, day = None, 0, start
    while n < 5:
        day += dt.timedelta(days=1)
        if day.isoweekday() <= 5:
            n += 1
            expected = day
    assert due.at.astimezone(CHINA).date() == expected
    calendar = workdays.year_calendar(year)
    assert (calendar.known, calendar.holidays, calendar.makeup_working_days) == (False, [], [])


async def test_the_calendar_is_public(client):
    r = await client.get("/api/calendar/2026")
    assert r.status_code == 200
    body = r.json()
    assert body["known"] is True
    assert {"date": "2026-02-17", "name_zh": "春节"} in body["holidays"]
    assert "2026-02-28" in body["makeup_working_days"]
    unknown = max(d.year for d in workdays.chinese_calendar.holidays) + 1
    r = await client.get(f"/api/calendar/{unknown}")
    assert r.status_code == 200 and r.json()["known"] is False
    assert "尚未收录" in r.json()["note_zh"]


@pytest.mark.parametrize("year", ["1999", "2101", "x", "99999999999999999999"])
async def test_a_year_out_of_range_is_refused(client, year):
    r = await client.get(f"/api/calendar/{year}")
    assert r.status_code in (400, 404, 422)  # 422: a number beyond 64 bits (the input gate)
    assert r.headers["content-type"].startswith("application/json")
