"""Which events are critical, what their SMS says, and quiet hours.

Every event kind has an urgency. **Critical** (may fall back to SMS, ignores quiet hours):

* ``application.offered`` — a place offered, with its deadline to answer;
* ``application.offer_expiring`` — an offer about to expire (emitted by ``notify.jobs``);
* ``application.ended`` — a place ended by the institution;
* ``booking.cancelled`` with ``cancelled_by = institution`` — a booking cancelled by the institution;
* ``notice.published`` with the event's urgency ``high`` — an urgent notice;
* ``health_check.send_home`` — a child sent home or isolated after the daily health check (晨午检);
* ``health_cluster.alert`` — ≥ 3 children of a class with the same symptom within 3 days;
* (later) child-safety incidents: add the kind here.

**Normal**: everything else. Normal events never go by SMS, and their pushes wait out quiet hours.

The SMS title names the kind of news only — never a child, an institution's remark, or an id; the
link (``/n/<random token>``) opens the right page after sign-in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

# (event type, predicate on the event) -> short SMS title (template parameter; ≤ 12 characters)
_CRITICAL: dict[str, tuple[Any, str]] = {
    "application.offered": (lambda e: True, "入托录取待确认"),
    "application.offer_expiring": (lambda e: True, "录取确认即将截止"),
    "application.ended": (lambda e: True, "托位已被机构取消"),
    "booking.cancelled": (lambda e: (e.payload or {}).get("cancelled_by") == "institution", "预约已被机构取消"),
    "notice.published": (lambda e: e.urgency == "high", "紧急通知"),
    "health_check.send_home": (lambda e: True, "孩子健康提醒"),
    "health_cluster.alert": (lambda e: True, "健康聚集性提醒"),
}

CRITICAL_TYPES = tuple(_CRITICAL)


def is_critical(event: Any) -> bool:
    rule = _CRITICAL.get(event.type)
    return bool(rule and rule[0](event))


def urgency_of(event: Any) -> str:
    return "critical" if is_critical(event) else "normal"


def sms_title(event: Any) -> str:
    rule = _CRITICAL.get(event.type)
    return rule[1] if rule else "重要通知"


def beijing_day(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(BEIJING).date()


def quiet_until(quiet: tuple[dt.time, dt.time] | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """When quiet hours (Beijing time) end, if ``now`` is inside them; else None."""
    if quiet is None:
        return None
    start, end = quiet
    now = now or dt.datetime.now(dt.UTC)
    local = now.astimezone(BEIJING)
    t = local.timetz().replace(tzinfo=None)
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside or start == end:
        return None
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += dt.timedelta(days=1)
    return release.astimezone(dt.UTC)
