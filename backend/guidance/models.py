"""Parenting guidance (育儿指导): events published by institutions and health centres, and the
families' registrations for them.

Places are counted like hourly-care slots: ``registered`` is moved by one conditional UPDATE in the
same transaction as the registration row, and a CHECK keeps it within ``capacity``. One account
holds at most one live (not cancelled) registration per event (a partial unique index).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages


class Kind(StrEnum):
    PARENT_CLASS = "parent_class"  # 家长课堂
    PARENT_CHILD_ACTIVITY = "parent_child_activity"  # 亲子活动
    HOME_VISIT = "home_visit"  # 入户指导


KIND_ZH = {
    Kind.PARENT_CLASS: "家长课堂",
    Kind.PARENT_CHILD_ACTIVITY: "亲子活动",
    Kind.HOME_VISIT: "入户指导",
}


class EventStatus(StrEnum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


REGISTRATION_STATUS_ZH = {
    RegistrationStatus.REGISTERED: "已报名",
    RegistrationStatus.CANCELLED: "已取消",
    RegistrationStatus.ATTENDED: "已参加",
    RegistrationStatus.NO_SHOW: "未参加",
}


def _sql_set(values: type[StrEnum]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class GuidanceEvent(Base):
    __tablename__ = "guidance_events"
    __table_args__ = (
        CheckConstraint("kind IN " + _sql_set(Kind), name="kind"),
        CheckConstraint("status IN " + _sql_set(EventStatus), name="status"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("registered >= 0 AND registered <= capacity", name="registered_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="time_order"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="wgs84_range"),
        Index("ix_guidance_events_unit_starts", "unit_code", "starts_at"),
        Index("ix_guidance_events_starts_at", "starts_at"),
        Index("ix_guidance_events_host_institution_id", "host_institution_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # NULL when a health centre (妇幼保健/社区卫生服务中心) hosts; ``host_name`` is what the public sees.
    host_institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    host_name: Mapped[str] = mapped_column(String(100))
    unit_code: Mapped[int] = mapped_column(ForeignKey("units.code"))
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float]
    lng: Mapped[float]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    registered: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'published'"), default="published")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at()
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class GuidanceRegistration(Base):
    __tablename__ = "guidance_registrations"
    __table_args__ = (
        CheckConstraint("status IN " + _sql_set(RegistrationStatus), name="status"),
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_at"),
        # One live registration per family (account) and event.
        Index(
            "uq_guidance_registrations_active",
            "event_id",
            "account_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_guidance_registrations_account_id", "account_id", "created_at"),
        Index("ix_guidance_registrations_child_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("guidance_events.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'registered'"), default="registered")
    created_at: Mapped[dt.datetime] = created_at()
    cancelled_at: Mapped[dt.datetime | None]
    attended_at: Mapped[dt.datetime | None]
    attendance_marked_at: Mapped[dt.datetime | None]


register_constraint_messages(
    {
        "uq_guidance_registrations_active": (
            "already_registered",
            "You are already registered for this event",
            "您已报名该活动",
        ),
        "ck_guidance_events_registered_within_capacity": (
            "event_full",
            "No place left at this event",
            "该活动名额已满",
        ),
        "ck_guidance_events_capacity_positive": (
            "capacity_invalid",
            "The capacity must be at least 1",
            "名额须至少为1",
        ),
        "ck_guidance_events_time_order": (
            "time_order",
            "The end must come after the start",
            "结束时间须晚于开始时间",
        ),
    }
)


def guidance_titles(event_type: str, status: str) -> tuple[str, str]:
    """The short (zh, en) title of a guidance outbox event, for live updates and Web Push."""
    if event_type == "guidance.event_cancelled":
        return "育儿指导：活动已取消", "Guidance event cancelled"
    if status in RegistrationStatus._value2member_map_:
        zh = REGISTRATION_STATUS_ZH[RegistrationStatus(status)]
        return f"育儿指导：{zh}", f"Guidance registration {status.replace('_', ' ')}"
    return "育儿指导", "Parenting guidance"
