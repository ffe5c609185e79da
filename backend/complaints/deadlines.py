"""Time limits for complaints, in working days (Monday to Friday, local time).

Acknowledge within COMPLAINT_ACK_WORKING_DAYS (default 1) and resolve within
COMPLAINT_RESOLVE_WORKING_DAYS (default 15), counted from filing. A limit ends at the same local
time of day on the n-th working day after the filing day. Public holidays (and the make-up working
weekends China's calendar moves them with) are not modelled yet: the limit then counts them as
ordinary days.
"""

from __future__ import annotations

import datetime as dt

from backend.core.clock import CHINA


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    local = start.astimezone(CHINA)
    day = local
    added = 0
    while added < days:
        day += dt.timedelta(days=1)
        if day.isoweekday() <= 5:
            added += 1
    return day.astimezone(dt.UTC)
