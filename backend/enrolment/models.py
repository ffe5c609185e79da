"""Enrolment applications for full-day and half-day care, with their waitlists."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, updated_at, uuid_pk
from backend.core.errors import register_constraint_messages


class Status(StrEnum):
    SUBMITTED = "submitted"  # 已提交
    WAITLISTED = "waitlisted"  # 候补
    OFFERED = "offered"  # 已录取待确认
    ACCEPTED = "accepted"  # 家长已接受
    ENROLLED = "enrolled"  # 已入托
    ENDED = "ended"  # 已离园
    REJECTED = "rejected"  # 未录取
    WITHDRAWN = "withdrawn"  # 已撤回
    EXPIRED = "expired"  # 录取已过期


STATUS_ZH = {
    Status.SUBMITTED: "已提交",
    Status.WAITLISTED: "候补中",
    Status.OFFERED: "已录取，待家长确认",
    Status.ACCEPTED: "家长已确认",
    Status.ENROLLED: "已入托",
    Status.ENDED: "已结束",
    Status.REJECTED: "未录取",
    Status.WITHDRAWN: "已撤回",
    Status.EXPIRED: "录取已过期",
}

# Applications that are still in play for their child at their institution.
ACTIVE = frozenset({Status.SUBMITTED, Status.WAITLISTED, Status.OFFERED, Status.ACCEPTED, Status.ENROLLED})
# Applications holding a place: counted in classes.offered_count (offered, accepted) or enrolled_count.
HOLDING_OFFER = frozenset({Status.OFFERED, Status.ACCEPTED})


def _sql_set(values: frozenset[Status]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("status IN " + _sql_set(frozenset(Status)), name="status"),
        CheckConstraint("mode IN ('full_day', 'half_day')", name="mode"),
        CheckConstraint("(status = 'offered') = (offer_expires_at IS NOT NULL)", name="offer_has_expiry"),
        # One application in play per child and institution; one place per child.
        Index(
            "uq_applications_active",
            "child_id",
            "institution_id",
            unique=True,
            postgresql_where=text("status IN " + _sql_set(ACTIVE)),
        ),
        Index(
            "uq_applications_one_place",
            "child_id",
            unique=True,
            postgresql_where=text("status IN ('accepted', 'enrolled')"),
        ),
        # The waitlist, in queue order: priority first, then first come first served.
        Index("ix_applications_queue", "class_id", "status", text("priority DESC"), "seq"),
        Index("ix_applications_institution_id", "institution_id", "status"),
        Index("ix_applications_offer_expires_at", "offer_expires_at", postgresql_where=text("status = 'offered'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # Arrival order (first come, first served), strictly increasing even within one transaction.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id", ondelete="RESTRICT"))
    mode: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)
    priority_reason: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected / withdrawn / ended
    submitted_at: Mapped[dt.datetime] = created_at()
    offer_expires_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = updated_at()


register_constraint_messages(
    {
        "uq_applications_active": (
            "already_applied",
            "This child already has an application in progress at this institution",
            "该幼儿在本机构已有进行中的申请",
        ),
        "uq_applications_one_place": (
            "already_placed",
            "This child already holds a place; withdraw it first",
            "该幼儿已有入托名额，请先撤回原名额",
        ),
    }
)
