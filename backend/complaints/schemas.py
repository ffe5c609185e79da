from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from backend.complaints.models import MAX_DESCRIPTION
from backend.core.schemas import Input, Latitude, Longitude, Output, line_text, paragraph_text
from backend.files.schemas import PresignedOut

Status = Literal["received", "accepted", "investigating", "resolved", "rejected", "duplicate", "referred"]
CategoryCode = Literal[
    "child_safety",
    "food_safety",
    "fire_safety",
    "health_hygiene",
    "fees",
    "unregistered",
    "staff_conduct",
    "kindergarten_class",
    "nursing_room",
    "other",
]
TrackingCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z2-7]{5}(-?[A-Za-z2-7]{5}){3}$",
        description="The tracking code given when the complaint was filed (e.g. ABCDE-FGHIJ-KLMNO-PQRST)",
    ),
]
Note = Annotated[str, paragraph_text(2000)]


class ComplaintForm(Input):
    """The filing form (multipart/form-data; photos go in the same request as `photos`)."""

    category: CategoryCode
    description: Annotated[str, paragraph_text(MAX_DESCRIPTION)]
    target_type: Literal["institution", "room", "place"] = "place"
    institution_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    place_name: Annotated[str, line_text(100)] | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Annotated[str, line_text(200)] | None = None
    contact_name: Annotated[str, line_text(40)] | None = None
    contact_phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 -]{4,18}[0-9]$")] | None = None


class CategoryOut(Output):
    code: CategoryCode
    name_zh: str
    name_en: str
    urgent: bool
    departments: list[str]


class PhotosNotStored(Output):
    """The complaint was filed, but its photos could not be stored (file storage unavailable): send
    them again later to ``add_photos`` (``POST /api/complaints/track/photos`` with the tracking code)."""

    count: int
    code: Literal["storage_unavailable"] = "storage_unavailable"
    detail: str = "The complaint was filed, but its photos could not be stored now; add them again later"
    detail_zh: str = "投诉已提交，但照片暂时无法保存，请稍后凭查询码补传照片"
    retry_after_s: int = 60
    add_photos: str = "/api/complaints/track/photos"


class Filed(Output):
    id: uuid.UUID
    reference: str  # "DQ-123": the public reference (Open311 service_request_id)
    tracking_code: str  # shown once: keep it to follow the complaint without an account
    status: Status
    urgent: bool
    departments: list[str]
    photos: int = 0  # photos stored with the complaint
    photos_not_stored: PhotosNotStored | None = None  # set when file storage was down: the text is saved


class PhotosAdded(Output):
    photos: int  # the complaint's photos now


class TrackIn(Input):
    tracking_code: TrackingCode


class PublicUpdate(Output):
    at: dt.datetime
    status: Status
    status_zh: str
    note: str | None


class ComplaintPublic(Output):
    """What the reporter (or anyone with the tracking code) sees."""

    reference: str
    category: CategoryCode
    category_zh: str
    status: Status
    status_zh: str
    urgent: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    institution_name: str | None
    place_name: str | None
    departments: list[str]
    photos: int
    updates: list[PublicUpdate]


class MyComplaint(ComplaintPublic):
    id: uuid.UUID
    description: str


class StaffComplaint(Output):
    """What the institution's staff see: no reporter, no contact, no internal notes."""

    id: uuid.UUID
    reference: str
    category: CategoryCode
    category_zh: str
    status: Status
    status_zh: str
    description: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    updates: list[PublicUpdate]


class Figure(Output):
    key: str
    name_zh: str
    count: int


class Figures(Output):
    """Public figures: counts and time to resolve, no personal data."""

    total: int
    by_category: list[Figure]
    by_unit: list[Figure]
    by_status: list[Figure]
    median_days_to_resolve: float | None
    resolved_within_limit_pct: float | None


# ---------------------------------------------------------------------------------------------- the officers' desk


class DeskItem(Output):
    """One complaint in a department's queue (officers and city admins)."""

    id: uuid.UUID
    reference: str
    category: CategoryCode
    category_zh: str
    status: Status
    status_zh: str
    urgent: bool
    unit_code: int | None
    unit_zh: str | None
    departments: list[str]
    created_at: dt.datetime
    ack_due_at: dt.datetime
    resolve_due_at: dt.datetime
    ack_overdue: bool  # still "received" after ack_due_at
    resolve_overdue: bool  # still open (received, accepted, investigating) after resolve_due_at
    institution_id: uuid.UUID | None
    institution_name: str | None
    place_name: str | None
    photos: int


class SimilarItem(DeskItem):
    """A possible duplicate: nearby (same category, within 250 m) and/or about the same institution."""

    distance_m: float | None
    same_institution: bool


class DeskUpdate(Output):
    """A history entry as officers see it: public and internal notes, and who wrote them."""

    id: int
    at: dt.datetime
    status: Status
    status_zh: str
    previous_status: Status | None
    public_note: str | None
    internal_note: str | None
    officer_id: uuid.UUID | None
    officer_name: str | None  # display name, else a masked phone or e-mail


class ComplaintRef(Output):
    id: uuid.UUID
    reference: str


class DeskComplaint(DeskItem):
    """Everything about a complaint, for the officers it is routed to."""

    description: str
    target_type: Literal["institution", "place"]
    lat: float | None
    lng: float | None
    address: str | None
    anonymous: bool  # filed without an account (the reporter follows it by tracking code only)
    contact_name: str | None
    contact_phone: str | None
    source: Literal["app", "open311"]
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    duplicate_of: ComplaintRef | None
    duplicates: list[ComplaintRef]  # complaints merged into this one (those the caller may see)
    photo_urls: list[PresignedOut]
    updates: list[DeskUpdate]


class TransitionIn(Input):
    """Move a complaint on. The public note is shown to the reporter and on the tracking page; the
    internal note only to officers. ``duplicate`` is set by merging (``POST …/merge``), not here."""

    status: Status
    public_note: Note
    internal_note: Note | None = None
    # The status the officer was looking at: if the complaint has moved on meanwhile, the change is
    # refused (409 status_changed) instead of being applied to a status the officer has not seen.
    expected_status: Status | None = None


class NoteIn(Input):
    """A note without a status change: at least one of the two."""

    public_note: Note | None = None
    internal_note: Note | None = None


class MergeIn(Input):
    """Mark this complaint a duplicate of ``into`` (which stays as it is)."""

    into: uuid.UUID
    public_note: Note
    internal_note: Note | None = None
