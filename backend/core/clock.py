"""Time in Daqing. China keeps UTC+8 all year (no daylight saving since 1991), so a fixed offset is
exact; dates that users see (service dates, slot times, "today") are local, instants are UTC."""

from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_now() -> dt.datetime:
    return dt.datetime.now(CHINA)


def local_today() -> dt.date:
    return local_now().date()


def local_instant(day: dt.date, minute_of_day: int) -> dt.datetime:
    """The instant of ``minute_of_day`` (0-1440) on local ``day``."""
    return dt.datetime.combine(day, dt.time(), CHINA) + dt.timedelta(minutes=minute_of_day)


def hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def minutes(hh_mm: str) -> int:
    hours, mins = hh_mm.split(":")
    return int(hours) * 60 + int(mins)
