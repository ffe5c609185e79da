"""Hourly (计时托) and temporary (临时托) care: published slots and the bookings that fill them."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages


class Band(StrEnum):
    """Age bands for slot capacity: the national class bands (a mixed class has no slot band)."""

    INFANT = "infant"  # 6-12 months
    TODDLER = "toddler"  # 12-24 months
    OLDER_TODDLER = "older_toddler"  # 24-36 months


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


BOOKING_STATUS_ZH = {
    BookingStatus.BOOKED: "已预约",
    BookingStatus.CANCELLED: "已取消",
    BookingStatus.ATTENDED: "已到园",
    BookingStatus.NO_SHOW: "未到",
}


class Slot(Base):
    """Bookable places for one age band in one 30- or 60-minute slot of one day."""

    __tablename__ = "slots"
    __table_args__ = (
        CheckConstraint("band IN ('infant', 'toddler', 'older_toddler')", name="band"),
        CheckConstraint("start_min >= 0 AND end_min <= 1440 AND start_min % 30 = 0", name="within_day"),
        CheckConstraint("end_min - start_min IN (30, 60)", name="granularity"),
        CheckConstraint("capacity >= 0 AND booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        # A day's grid for a band never overlaps itself.
        ExcludeConstraint(
            ("institution_id", "="),
            ("day", "="),
            ("band", "="),
            (text("int4range(start_min, end_min)"), "&&"),
            name="ex_slots_grid",
            using="gist",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    day: Mapped[dt.date]
    band: Mapped[str] = mapped_column(String(16))
    start_min: Mapped[int] = mapped_column(SmallInteger)  # minutes after local midnight
    end_min: Mapped[int] = mapped_column(SmallInteger)
    capacity: Mapped[int] = mapped_column(SmallInteger)
    booked: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("mode IN ('hourly', 'temporary')", name="mode"),
        CheckConstraint("status IN ('booked', 'cancelled', 'attended', 'no_show')", name="status"),
        CheckConstraint("band IN ('infant', 'toddler', 'older_toddler')", name="band"),
        CheckConstraint("start_min < end_min AND ends_at > starts_at", name="time_order"),
        # One child is never in two places at once, at any institution (btree_gist for the uuid).
        ExcludeConstraint(
            ("child_id", "="),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            where=text("status <> 'cancelled'"),
            name="ex_bookings_child_overlap",
            using="gist",
        ),
        Index("ix_bookings_institution_day", "institution_id", "day"),
        Index("ix_bookings_child_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    booked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date]
    band: Mapped[str] = mapped_column(String(16))
    start_min: Mapped[int] = mapped_column(SmallInteger)
    end_min: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    price_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), server_default="booked")
    created_at: Mapped[dt.datetime] = created_at()
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    attendance_marked_at: Mapped[dt.datetime | None]


register_constraint_messages(
    {
        "ex_bookings_child_overlap": (
            "child_double_booked",
            "This child already has a booking at that time",
            "该幼儿在该时段已有预约",
        ),
        "ex_slots_grid": (
            "slot_grid_conflict",
            "These slots overlap slots of another length already published for that day",
            "与当天已发布的不同时长时段重叠",
        ),
        "ck_slots_booked_within_capacity": (
            "capacity_below_booked",
            "A slot's capacity cannot go below its bookings",
            "时段名额不能少于已预约人数",
        ),
    }
)
