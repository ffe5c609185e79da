"""Notices (通知公告) to an institution's parents, one class, or the parent committee; their revisions,
read receipts, and consultations (征求意见) with their answers.

Life of a notice: written (version 1) → published at ``publish_at`` (at once, or by the maintenance
loop) → maybe edited (a new version; the old one stays in ``notice_revisions``) → expires at
``expires_at`` (parents stop seeing it) or is deleted (soft: who and when are kept).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
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

AUDIENCE_ZH = {"institution": "全体家长", "class": "班级家长", "committee": "家长委员会"}
MAX_BODY_CHARS = 10_000


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint("audience IN ('institution', 'class', 'committee')", name="audience"),
        CheckConstraint("(audience = 'class') = (class_id IS NOT NULL)", name="class_audience"),
        CheckConstraint("posted_as IN ('staff', 'committee')", name="posted_as"),
        CheckConstraint("body_format IN ('plain', 'markdown')", name="body_format"),
        CheckConstraint(f"length(body) <= {MAX_BODY_CHARS}", name="body_length"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        CheckConstraint("expires_at IS NULL OR expires_at > publish_at", name="expires_after_publish"),
        CheckConstraint("(deleted_at IS NULL) = (deleted_by IS NULL)", name="deleted_with_who"),
        # A parent's feed: an institution's live notices, newest first.
        Index(
            "ix_notices_feed", "institution_id", text("published_at DESC"), postgresql_where=text("deleted_at IS NULL")
        ),
        # The publisher's queue: notices waiting for their publish time.
        Index("ix_notices_due", "publish_at", postgresql_where=text("published_at IS NULL AND deleted_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(12))
    class_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    posted_as: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(8))
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitized on the server
    pinned: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    publish_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"), default=1)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    deleted_at: Mapped[dt.datetime | None]
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))


class NoticeRevision(Base):
    """Every version of a notice as it was written (version 1 is the original)."""

    __tablename__ = "notice_revisions"

    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(8))
    pinned: Mapped[bool]
    urgent: Mapped[bool]
    publish_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    edited_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    edited_at: Mapped[dt.datetime] = created_at()


class NoticeRead(Base):
    """A parent has read a notice (first time only)."""

    __tablename__ = "notice_reads"
    __table_args__ = (Index("ix_notice_reads_account_id", "account_id"),)

    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[dt.datetime] = created_at()


class Consultation(Base):
    """A question put to the notice's audience (征求意见): choices and/or free text, until a deadline."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("choice_mode IN ('none', 'single', 'multiple')", name="choice_mode"),
        CheckConstraint(
            "CASE choice_mode WHEN 'none' THEN jsonb_array_length(options) = 0 AND allow_text"
            " ELSE jsonb_array_length(options) BETWEEN 2 AND 10 END",
            name="options_match_mode",
        ),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(200))
    choice_mode: Mapped[str] = mapped_column(String(8))
    options: Mapped[list[str]] = mapped_column(JSONB)
    allow_text: Mapped[bool]
    deadline: Mapped[dt.datetime]
    anonymous: Mapped[bool]


class ConsultationAnswer(Base):
    """One answer per guardian account. Anonymous answers carry no account, no time, only the hash of
    a receipt the answering device keeps (to change the answer before the deadline)."""

    __tablename__ = "consultation_answers"
    __table_args__ = (
        CheckConstraint("(account_id IS NULL) <> (receipt_hash IS NULL)", name="named_or_receipt"),
        CheckConstraint("(account_id IS NULL) = (answered_at IS NULL)", name="anonymous_untimed"),
        UniqueConstraint("notice_id", "account_id", name="uq_consultation_answers_one_per_account"),
        UniqueConstraint("receipt_hash", name="uq_consultation_answers_receipt_hash"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.notice_id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    receipt_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    choices: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), server_default="{}")
    free_text: Mapped[str | None] = mapped_column(String(1000))
    answered_at: Mapped[dt.datetime | None]


class ConsultationParticipant(Base):
    """Anonymous consultations: *that* an account has answered (to allow one answer each), not *what*."""

    __tablename__ = "consultation_participants"

    notice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.notice_id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)


register_constraint_messages(
    {
        "uq_consultation_answers_one_per_account": (
            "already_answered",
            "You have already answered; change your answer instead",
            "您已提交过意见，可修改原意见",
        ),
        "pk_consultation_participants": (
            "already_answered",
            "You have already answered this anonymous consultation",
            "您已提交过此匿名征求意见",
        ),
    }
)
