from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.core.schemas import Input, Output
from backend.enrolment.schemas import Reason
from backend.institutions.schemas import HHMM

BandName = Literal["infant", "toddler", "older_toddler"]
BookingStatusName = Literal["booked", "cancelled", "attended", "no_show"]


class SlotsIn(Input):
    """Publish a day's slots for one age band: [opens, closes) cut into 30- or 60-minute slots."""

    day: dt.date
    band: BandName
    granularity_minutes: Literal[30, 60]
    opens: HHMM
    closes: HHMM
    capacity: Annotated[int, msgspec.Meta(ge=0, le=50, description="Places per slot; 0 closes the slots")]
    open_on_public_holiday: Annotated[
        bool,
        msgspec.Meta(
            description="A public holiday (春节, 国庆节, …) is refused unless this says the institution opens"
        ),
    ] = False


class SlotOut(Output):
    id: uuid.UUID
    band: BandName
    start: str
    end: str
    capacity: int
    booked: int
    free: int


class DaySlots(Output):
    institution_id: uuid.UUID
    day: dt.date
    slots: list[SlotOut]


class BookingIn(Input):
    child_id: uuid.UUID
    institution_id: uuid.UUID
    mode: Literal["hourly", "temporary"]
    day: dt.date
    start: HHMM
    end: HHMM


class CancelIn(Input):
    reason: Reason


class AttendanceIn(Input):
    status: Literal["attended", "no_show"]


class BookingOut(Output):
    id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    institution_id: uuid.UUID
    institution_name: str
    mode: Literal["hourly", "temporary"]
    day: dt.date
    start: str
    end: str
    band: BandName
    price_fen: int
    status: BookingStatusName
    status_zh: str
    created_at: dt.datetime
    cancellable_until: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str | None


class BookingHistoryItem(Output):
    event_id: int
    type: str
    status: BookingStatusName
    at: dt.datetime


class BookingDetail(BookingOut):
    history: list[BookingHistoryItem]
