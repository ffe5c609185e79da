"""What an event means to the people who receive it: who may hear it, its category, its message.

Who hears an event — one rule, written twice on purpose: as SQL (for resuming from the outbox) and
in Python (for the live fan-out), and a property test checks they agree:

* the accounts named in ``account_ids`` (e.g. a child's guardians);
* staff and admins of ``institution_id``;
* officers of a department in ``department_codes`` — city-wide officers always, unit officers when
  the event's unit is theirs (or the event has none);
* city admins, for events addressed to departments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, false, literal, or_

from backend.bookings.models import BOOKING_STATUS_ZH, BookingStatus
from backend.core.authz import Principal
from backend.core.outbox import Event
from backend.enrolment.models import STATUS_ZH, Status
from backend.guidance.models import guidance_titles
from backend.notify.urgency import is_critical

CATEGORY_BY_SUBJECT = {
    "application": "enrolment",
    "booking": "bookings",
    "notice": "notices",
    "complaint": "complaints",
    "guidance_registration": "bookings",  # parenting guidance: a place at an event, like a booking
    "guidance_event": "bookings",
    "assessment": "notices",  # quality assessments: news for the institution (and officers)
    "blacklist_entry": "notices",  # an institution blacklisted: news for it and the health department
    "staff_roster": "notices",  # someone on an institution's roster was blacklisted (id: the institution)
    "child_growth": "notices",  # a growth measurement that needs attention: news for the guardians
    "health_follow_up": "notices",  # a health follow-up item for the institution's staff
    "health_check": "notices",  # a child sent home or isolated after the daily check: for the guardians
    "health_cluster": "notices",  # a cluster alert: for the institution and the county health officers
    "filing": "notices",  # filing (备案) submitted/approved/returned: news for the institution and officers
}


def category_of(subject_type: str) -> str:
    return CATEGORY_BY_SUBJECT.get(subject_type, "enrolment")


# ---------------------------------------------------------------------------------------------- audience


def audience_sql(p: Principal) -> ColumnElement[bool]:
    """The events ``p`` may receive, as a SQL condition on ``Event``."""
    conds: list[ColumnElement[bool]] = [Event.account_ids.contains([p.account_id])]
    institutions = p.institutions()
    if institutions:
        conds.append(Event.institution_id.in_(institutions))
    for department, unit in p.officer_scopes():
        dept = Event.department_codes.contains([department])
        conds.append(dept if unit is None else and_(dept, or_(Event.unit_code.is_(None), Event.unit_code == unit)))
    if p.is_city_admin:
        conds.append(Event.department_codes != literal([], Event.department_codes.type))
    return or_(*conds) if conds else false()


def audience_allows(p: Principal, event: Any) -> bool:
    """The same rule for an event already in memory (any object with the event's audience fields)."""
    if p.account_id in event.account_ids:
        return True
    if event.institution_id is not None and event.institution_id in p.institutions():
        return True
    for department, unit in p.officer_scopes():
        if department in event.department_codes and (unit is None or event.unit_code in (None, unit)):
            return True
    return p.is_city_admin and bool(event.department_codes)


# ---------------------------------------------------------------------------------------------- messages


class Subject(msgspec.Struct, kw_only=True):
    type: str
    id: str


class Message(msgspec.Struct, kw_only=True):
    """What a WebSocket client receives for an event (and, trimmed, what a push carries)."""

    type: str = "event"
    id: int  # the event's position: pass it back as last_event_id to resume
    event: str
    category: str
    urgency: str
    # Critical news (backend/notify/urgency.py): the app reports it saw it (POST /api/me/notifications/seen),
    # which stops its SMS fallback.
    critical: bool = False
    at: dt.datetime
    subject: Subject
    title_zh: str
    title: str
    url: str
    data: dict[str, Any]


def _titles(event: Any) -> tuple[str, str]:
    status = event.payload.get("status", "")
    if event.subject_type == "application":
        zh = STATUS_ZH.get(Status(status), status) if status in Status._value2member_map_ else status
        return f"入托申请：{zh}", f"Application {status.replace('_', ' ')}"
    if event.subject_type == "booking":
        zh = (
            BOOKING_STATUS_ZH.get(BookingStatus(status), status)
            if status in BookingStatus._value2member_map_
            else status
        )
        return f"托育预约：{zh}", f"Booking {status.replace('_', ' ')}"
    if event.subject_type in ("guidance_registration", "guidance_event"):
        return guidance_titles(event.type, status)
    return event.payload.get("title_zh", "新消息"), event.payload.get("title", "New update")


_URLS = {
    "application": "/applications/{id}",
    "booking": "/bookings/{id}",
    "notice": "/notices/{id}",
    "complaint": "/complaints/{id}",
    "guidance_registration": "/guidance/registrations/{id}",
    "guidance_event": "/guidance/{id}",
    "assessment": "/assessments/{id}",
    "blacklist_entry": "/blacklist",
    "staff_roster": "/staff/{id}/roster",
    "child_growth": "/children/{id}/growth",
    "health_follow_up": "/health/follow-ups",
    "health_check": "/me/children",
    "health_cluster": "/health/clusters",
    "filing": "/filing/{id}",  # the PWA opens the officer's review or the institution's filing screen
}


def message_for(event: Any) -> Message:
    title_zh, title = _titles(event)
    return Message(
        id=event.position,
        event=event.type,
        category=category_of(event.subject_type),
        urgency=event.urgency,
        critical=is_critical(event),
        at=event.created_at,
        subject=Subject(type=event.subject_type, id=str(event.subject_id)),
        title_zh=title_zh,
        title=title,
        url=_URLS.get(event.subject_type, "/").format(id=event.subject_id),
        data=event.payload,
    )
