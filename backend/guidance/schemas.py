from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Instant, Latitude, Longitude, Output, line_text, paragraph_text
from backend.enrolment.schemas import Reason

KindName = Literal["parent_class", "parent_child_activity", "home_visit"]
EventStatusName = Literal["published", "cancelled"]
RegistrationStatusName = Literal["registered", "cancelled", "attended", "no_show"]
UnitCode = Annotated[int, msgspec.Meta(ge=100000, le=999999, description="Unit code, e.g. 230602")]


class GuidanceEventIn(Input):
    """Publish an event. An institution's staff host as their institution (``institution_id``; may be
    left out when they belong to one institution): host name, unit, address and position default to
    the institution's. Health officers host as a health centre: ``host_name`` and ``unit_code`` are
    required (unit officers: their own unit)."""

    kind: KindName
    title: Annotated[str, line_text(100)]
    description: Annotated[str, paragraph_text(4000)]
    starts_at: Instant
    ends_at: Instant
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000, description="Places (families), at least 1")]
    address: Annotated[str, line_text(200)] | None = None
    institution_id: uuid.UUID | None = None
    host_name: Annotated[str, line_text(100, description="The host shown to the public")] | None = None
    unit_code: UnitCode | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None


class GuidanceRegistrationIn(Input):
    child_id: uuid.UUID | None = msgspec.field(default=None)


class GuidanceAttendanceIn(Input):
    status: Literal["attended", "no_show"]


class GuidanceCancelEventIn(Input):
    reason: Reason


class GuidanceEventOut(Output):
    id: uuid.UUID
    kind: KindName
    kind_zh: str
    title: str
    description: str
    host_name: str
    host_institution_id: uuid.UUID | None
    unit_code: int
    unit_name: str
    address: str
    lat: float
    lng: float
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    registered: int
    places_left: int
    status: EventStatusName
    open_for_registration: bool
    distance_m: float | None


class GuidanceEventDetail(GuidanceEventOut):
    my_registration_id: uuid.UUID | None = None
    my_registration_status: RegistrationStatusName | None = None


class GuidanceEventPage(Output):
    items: list[GuidanceEventOut]
    total: int
    limit: int
    offset: int


class GuidanceRegistrationOut(Output):
    id: uuid.UUID
    event: GuidanceEventOut
    child_id: uuid.UUID | None
    child_name: str | None
    status: RegistrationStatusName
    status_zh: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    attended_at: dt.datetime | None
    cancellable: bool


class GuidanceHostedEvent(GuidanceEventOut):
    attended: int
    no_show: int


class GuidanceHostedRegistration(Output):
    """What the host's staff need for attendance: who registered (shown name) and, if named, the child."""

    id: uuid.UUID
    guardian: str
    child_name: str | None
    child_age_months: int | None
    status: RegistrationStatusName
    status_zh: str
    created_at: dt.datetime
    attendance_marked_at: dt.datetime | None


class GuidanceHostedEventDetail(GuidanceHostedEvent):
    cancel_reason: str | None
    registrations: list[GuidanceHostedRegistration]
