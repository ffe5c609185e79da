"""Mother-and-baby rooms (母婴室) on the map, the people who manage them, ratings and comments, and
crowd-sourced corrections with the history of every change.

Opening hours are a weekly schedule (``[{days, opens, closes}]`` like institutions) plus dated
exceptions (``[{date, closed} | {date, opens, closes}]``) for holidays and closures; "open now" is
computed in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, updated_at, uuid_pk
from backend.core.errors import register_constraint_messages

VENUE_TYPES = {
    "transport_hub": "交通枢纽",
    "commercial_centre": "商业中心",
    "tourist_area": "旅游景区",
    "hospital": "医院",
    "government_hall": "政务服务大厅",
    "park": "公园",
    "other": "其他",
}
AMENITIES = {
    "changing_table": "婴儿护理台",
    "hot_water_sink": "热水洗手池",
    "nursing_chair": "哺乳椅",
    "baby_bed": "婴儿床",
    "lockable_door": "可上锁的门",
    "power_socket": "电源插座",
    "call_button": "呼叫按钮",
    "air_conditioning": "空调",
    "diaper_vending": "尿布售卖机",
    "wheelchair_access": "无障碍通行",
}


def _in(values: Any) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (
        CheckConstraint("venue_type IN " + _in(VENUE_TYPES), name="venue_type"),
        CheckConstraint(
            "amenities <@ ARRAY" + str(sorted(AMENITIES)).replace('"', "'") + "::varchar[]", name="amenities"
        ),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="wgs84_range"),
        CheckConstraint("area_m2 IS NULL OR area_m2 BETWEEN 1 AND 1000", name="area_range"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        Index("ix_rooms_earth", text("ll_to_earth(lat, lng)"), postgresql_using="gist"),
        Index("ix_rooms_lat_lng", "lat", "lng"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    venue: Mapped[str] = mapped_column(String(100))
    venue_type: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    location_hint: Mapped[str | None] = mapped_column(String(100))  # floor, "next to gate B2"
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("units.code"))
    lat: Mapped[float]
    lng: Mapped[float]
    opening_hours: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    exceptions: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    amenities: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    area_m2: Mapped[int | None] = mapped_column(SmallInteger)
    independent: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    managing_body: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    verified_on: Mapped[dt.date | None]
    source_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # the importing register's id (imports)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"), default=1)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class RoomManager(Base):
    """An account of the room's managing body (a station's, a mall's staff): it keeps the room's facts
    and decides on suggested corrections."""

    __tablename__ = "room_managers"

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)


class RoomRevision(Base):
    """Every version of a room's facts (what changed, by whom, through which suggestion)."""

    __tablename__ = "room_revisions"

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    suggestion_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room_suggestions.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = created_at()


class RoomRating(Base):
    """One rating (1-5) and optional comment per user per room; editable; comments can be hidden."""

    __tablename__ = "room_ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        CheckConstraint("(hidden_at IS NULL) = (hidden_reason IS NULL)", name="hidden_with_reason"),
        UniqueConstraint("room_id", "account_id", name="uq_room_ratings_one_per_user"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    hidden_at: Mapped[dt.datetime | None]
    hidden_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(String(200))


class RoomSuggestion(Base):
    """A correction to a room, or a new room, suggested by a user; approved or rejected by the room's
    managers or a city admin."""

    __tablename__ = "room_suggestions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_when_not_pending"),
        Index("ix_room_suggestions_pending", "room_id", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))  # None: a new room
    base_version: Mapped[int | None] = mapped_column(SmallInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    suggested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    created_at: Mapped[dt.datetime] = created_at()
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(500))


register_constraint_messages(
    {
        "uq_room_ratings_one_per_user": (
            "already_rated",
            "You have rated this room already; change your rating instead",
            "您已评价过该母婴室，可修改原评价",
        ),
    }
)
