from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output

StatusName = Literal[
    "submitted", "waitlisted", "offered", "accepted", "enrolled", "ended", "rejected", "withdrawn", "expired"
]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f<>]+$")]


class ApplicationIn(Input):
    child_id: uuid.UUID
    institution_id: uuid.UUID
    mode: Literal["full_day", "half_day"]
    start_date: dt.date
    class_id: uuid.UUID | None = None  # default: the fitting class with the most free places


class ReasonIn(Input):
    reason: Reason


class OptionalReasonIn(Input):
    reason: Reason | None = None


class PriorityIn(Input):
    priority: Annotated[int, msgspec.Meta(ge=-100, le=100, description="Higher is served first; 0 is normal")]
    reason: Reason


class ApplicationOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    institution_id: uuid.UUID
    institution_name: str
    class_id: uuid.UUID
    class_name: str
    class_type: str
    mode: Literal["full_day", "half_day"]
    start_date: dt.date
    status: StatusName
    status_zh: str
    priority: int
    waitlist_position: int | None
    offer_expires_at: dt.datetime | None
    reason: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime


class HistoryItem(Output):
    event_id: int
    type: str
    status: StatusName
    at: dt.datetime


class ApplicationDetail(ApplicationOut):
    history: list[HistoryItem]


class QueueItem(ApplicationOut):
    child_birth_date: dt.date
    child_age_months_at_start: int


class DeskClass(Output):
    id: uuid.UUID
    name: str
    class_type: str
    class_type_zh: str
    capacity: int
    carers: int
    carer_ratio_ok: bool
    offline_enrolled: int
    enrolled: int
    offered: int
    vacancies: int
    waitlist: int
    submitted: int


class SlotUse(Output):
    band: str
    start: str
    end: str
    capacity: int
    booked: int


class Desk(Output):
    institution_id: uuid.UUID
    day: dt.date
    classes: list[DeskClass]
    slots: list[SlotUse]
