from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from backend.core.schemas import Input, Latitude, Longitude, Output, line_text, paragraph_text

VenueType = Literal[
    "transport_hub", "commercial_centre", "tourist_area", "hospital", "government_hall", "park", "other"
]
Amenity = Literal[
    "changing_table",
    "hot_water_sink",
    "nursing_chair",
    "baby_bed",
    "lockable_door",
    "power_socket",
    "call_button",
    "air_conditioning",
    "diaper_vending",
    "wheelchair_access",
]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", description="HH:MM, local time")]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7, description="ISO weekday, 1 = Monday")]


class WeeklyHours(Input):
    days: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    opens: HHMM
    closes: HHMM


class HoursException(Input):
    """A dated exception: closed all day, or other hours that day (holidays, closures)."""

    date: dt.date
    closed: bool = False
    opens: HHMM | None = None
    closes: HHMM | None = None
    note: Annotated[str, line_text(60)] | None = None


class RoomFacts(Input):
    """A room's facts, as staff enter them and as a suggested correction proposes them."""

    name: Annotated[str, line_text(100)]
    venue: Annotated[str, line_text(100)]
    venue_type: VenueType
    address: Annotated[str, line_text(200)]
    lat: Latitude
    lng: Longitude
    location_hint: Annotated[str, line_text(100)] | None = None
    opening_hours: Annotated[list[WeeklyHours], msgspec.Meta(max_length=14)] = []
    exceptions: Annotated[list[HoursException], msgspec.Meta(max_length=60)] = []
    amenities: Annotated[list[Amenity], msgspec.Meta(max_length=10)] = []
    area_m2: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    independent: bool = True
    managing_body: Annotated[str, line_text(100)] | None = None
    contact_phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 -]{4,18}[0-9]$")] | None = None


class RoomOut(Output):
    id: uuid.UUID
    name: str
    venue: str
    venue_type: VenueType
    venue_type_zh: str
    address: str
    location_hint: str | None
    lat: float
    lng: float
    opening_hours: list[WeeklyHours]
    exceptions: list[HoursException]
    open_now: bool
    amenities: list[Amenity]
    area_m2: int | None
    independent: bool
    managing_body: str | None
    contact_phone: str | None
    verified: bool
    verified_on: dt.date | None
    rating: float | None
    ratings: int
    version: int
    distance_m: float | None = None
    photos: list[RoomPhoto] = []  # in the room's detail only


class RoomPhoto(Output):
    id: uuid.UUID
    url: str
    content_type: str
    width: int
    height: int


class PhotosIn(Input):
    """The room's photos, in order: ids from `POST /api/uploads?purpose=room_photo` (at most 9)."""

    upload_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=9)]


class RoomMarker(Output):
    """Lightweight, for drawing markers in a map viewport."""

    id: uuid.UUID
    name: str
    lat: float
    lng: float
    venue_type: VenueType
    open_now: bool


class VerifyIn(Input):
    verified_on: dt.date | None = None


# ------------------------------------------------------------------- ratings, suggestions, history
# (backend/rooms/input.py and input_routes.py)

Stars = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 (poor) to 5 (excellent)")]


class RatingIn(Input):
    stars: Stars
    comment: Annotated[str, paragraph_text(500)] | None = None


class MyRatingOut(Output):
    id: uuid.UUID
    room_id: uuid.UUID
    stars: int
    comment: str | None
    hidden: bool
    hidden_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RatingComment(Output):
    id: uuid.UUID
    stars: int
    comment: str
    by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class RatingsOut(Output):
    room_id: uuid.UUID
    average: float | None
    count: int
    comments_total: int
    comments: list[RatingComment]


class HideIn(Input):
    reason: Annotated[str, line_text(200)]


class ModeratedRatingOut(Output):
    id: uuid.UUID
    room_id: uuid.UUID
    stars: int
    comment: str | None
    hidden: bool
    hidden_at: dt.datetime | None
    hidden_reason: str | None


class RoomFactsPatch(Input):
    """Only the fields to change; ``null`` clears an optional field."""

    name: Annotated[str, line_text(100)] | msgspec.UnsetType = msgspec.UNSET
    venue: Annotated[str, line_text(100)] | msgspec.UnsetType = msgspec.UNSET
    venue_type: VenueType | msgspec.UnsetType = msgspec.UNSET
    address: Annotated[str, line_text(200)] | msgspec.UnsetType = msgspec.UNSET
    lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    lng: Longitude | msgspec.UnsetType = msgspec.UNSET
    location_hint: Annotated[str, line_text(100)] | msgspec.UnsetType | None = msgspec.UNSET
    opening_hours: Annotated[list[WeeklyHours], msgspec.Meta(max_length=14)] | msgspec.UnsetType = msgspec.UNSET
    exceptions: Annotated[list[HoursException], msgspec.Meta(max_length=60)] | msgspec.UnsetType = msgspec.UNSET
    amenities: Annotated[list[Amenity], msgspec.Meta(max_length=10)] | msgspec.UnsetType = msgspec.UNSET
    area_m2: Annotated[int, msgspec.Meta(ge=1, le=1000)] | msgspec.UnsetType | None = msgspec.UNSET
    independent: bool | msgspec.UnsetType = msgspec.UNSET
    managing_body: Annotated[str, line_text(100)] | msgspec.UnsetType | None = msgspec.UNSET
    contact_phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 -]{4,18}[0-9]$")] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )


SuggestionNote = Annotated[str, paragraph_text(1000)]


class SuggestionIn(Input):
    changes: RoomFactsPatch
    note: SuggestionNote | None = None


class NewRoomSuggestionIn(Input):
    facts: RoomFacts
    note: SuggestionNote | None = None


SuggestionStatus = Literal["pending", "approved", "rejected"]


class SuggestionOut(Output):
    id: uuid.UUID
    number: int
    room_id: uuid.UUID | None
    room_name: str | None
    new_room: bool
    base_version: int | None
    current_version: int | None
    outdated: bool
    changes: dict[str, Any]
    note: str | None
    suggested_by: str | None
    status: SuggestionStatus
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_note: str | None


class DecisionIn(Input):
    note: Annotated[str, paragraph_text(500)] | None = None


class DecisionOut(Output):
    suggestion: SuggestionOut
    version: int | None
    applied_fields: list[str]
    outdated: bool
    changed_since_base: list[str]


class RoomRevisionOut(Output):
    version: int
    changed_fields: list[str]
    changes: dict[str, Any]
    changed_at: dt.datetime
    changed_by: str | None
    suggestion_number: int | None
    suggested_by: str | None
