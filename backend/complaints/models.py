"""Complaints (投诉举报) from the public, their history of status changes, and Open311 clients.

A complaint is about an institution, a mother-and-baby room, or a place on the map. It is routed to departments when filed (``department_codes``,
with the unit for territorial government) and then worked by officers through its statuses::

    received ─┬─> accepted ─┬─> investigating ─┬─> resolved
              │             │                  ├─> rejected / duplicate / referred
              │             └─> resolved / rejected / duplicate / referred
              └─> rejected / duplicate / referred

Anonymous complaints keep no account; the tracking code is stored only as a keyed digest.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from backend.complaints.routing import CATEGORIES
from backend.core.db import Base, created_at, updated_at, uuid_pk

STATUSES = ("received", "accepted", "investigating", "resolved", "rejected", "duplicate", "referred")
OPEN = ("received", "accepted", "investigating")
CLOSED = ("resolved", "rejected", "duplicate", "referred")
STATUS_ZH = {
    "received": "已受理登记",
    "accepted": "已受理",
    "investigating": "调查处理中",
    "resolved": "已办结",
    "rejected": "不予受理",
    "duplicate": "重复投诉",
    "referred": "已转办",
}
# status -> the statuses it may move to
TRANSITIONS = {
    "received": ("accepted", "rejected", "duplicate", "referred"),
    "accepted": ("investigating", "resolved", "rejected", "duplicate", "referred"),
    "investigating": ("resolved", "rejected", "duplicate", "referred"),
}
MAX_DESCRIPTION = 4000


def _in(values: object) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # type: ignore[attr-defined]


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint("status IN " + _in(STATUSES), name="status"),
        CheckConstraint("category IN " + _in(CATEGORIES), name="category"),
        CheckConstraint("target_type IN ('institution', 'place', 'room')", name="target_type"),
        CheckConstraint("(target_type = 'room') = (room_id IS NOT NULL)", name="room_target"),
        CheckConstraint("(target_type = 'institution') = (institution_id IS NOT NULL)", name="institution_target"),
        CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="lat_lng_together"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="wgs84_range"),
        CheckConstraint("lat IS NOT NULL OR address IS NOT NULL OR institution_id IS NOT NULL", name="has_location"),
        CheckConstraint(f"length(description) BETWEEN 1 AND {MAX_DESCRIPTION}", name="description_length"),
        CheckConstraint("source IN ('app', 'open311')", name="source"),
        CheckConstraint("(status = 'duplicate') = (duplicate_of IS NOT NULL)", name="duplicate_has_original"),
        CheckConstraint("duplicate_of <> id", name="not_own_duplicate"),
        Index("ix_complaints_department_codes", "department_codes", postgresql_using="gin"),
        Index("ix_complaints_created_at", "created_at"),
        Index("ix_complaints_reporter_id", "reporter_id", postgresql_where=text("reporter_id IS NOT NULL")),
        Index("ix_complaints_institution_id", "institution_id", postgresql_where=text("institution_id IS NOT NULL")),
        Index(
            "ix_complaints_earth",
            text("ll_to_earth(lat, lng)"),
            postgresql_using="gist",
            postgresql_where=text("lat IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # The public reference (Open311 service_request_id "DQ-<number>"): a random unused ten-digit number
    # drawn by the database (migration 0036), so the public numbers say nothing about hidden complaints.
    number: Mapped[int] = mapped_column(BigInteger, server_default=text("complaint_number()"), unique=True)
    tracking_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    category: Mapped[str] = mapped_column(String(24))
    urgent: Mapped[bool] = mapped_column(Boolean)
    target_type: Mapped[str] = mapped_column(String(12))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"))
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"))
    place_name: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("units.code"))
    department_codes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    status: Mapped[str] = mapped_column(String(16), server_default="received")
    # Who filed it: an account (signed-in reporters) or nobody (anonymous; no link is kept).
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    contact_name: Mapped[str | None] = mapped_column(String(40))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(8), server_default="app")
    open311_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("open311_clients.id"))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaints.id"))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    ack_due_at: Mapped[dt.datetime]
    resolve_due_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]  # first move out of "received"
    accepted_at: Mapped[dt.datetime | None]  # from here on the institution's staff see it
    closed_at: Mapped[dt.datetime | None]


class ComplaintUpdate(Base):
    """One status change (or note) by an officer: the public note is shown to the reporter and on the
    tracking page; the internal note only to officers."""

    __tablename__ = "complaint_updates"
    __table_args__ = (Index("ix_complaint_updates_complaint_id", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str | None] = mapped_column(String(16))
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    officer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at()


class Open311Client(Base):
    """A registered third-party app that may file through Open311 (its ``api_key`` stored as a digest)."""

    __tablename__ = "open311_clients"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[dt.datetime] = created_at()
    revoked_at: Mapped[dt.datetime | None]
