"""Uploaded files: one row per stored object, attached to at most one subject (a notice, a complaint,
later a filing) at one position in that subject's list."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages

# What an upload is for (``files.service.POLICIES`` says what each accepts). Every purpose takes
# images only, except 'filing_document' and 'health_report' (a PDF or an image; a PDF has no width and height).
PURPOSES = ("notice_image", "complaint_photo", "room_photo", "filing_document", "institution_cover", "health_report")


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('notice_image', 'complaint_photo', 'room_photo', 'filing_document', 'institution_cover', 'health_report')",
            name="purpose",
        ),
        CheckConstraint(
            "byte_size > 0 AND ((width IS NULL AND height IS NULL) OR (width > 0 AND height > 0))",
            name="sizes_positive",
        ),
        # Only documents (filing documents, health reports) may be something else than an image (a PDF, without pixel sizes).
        CheckConstraint(
            "purpose IN ('filing_document', 'health_report') OR width IS NOT NULL", name="images_have_sizes"
        ),
        # Attached (all three set) or not (none set); positions count from 0.
        CheckConstraint("num_nulls(subject_type, subject_id, position) IN (0, 3)", name="attachment_complete"),
        CheckConstraint("position >= 0", name="position_non_negative"),
        CheckConstraint("subject_type ~ '^[a-z][a-z_]{0,31}$'", name="subject_type_format"),
        UniqueConstraint("subject_type", "subject_id", "position"),
        UniqueConstraint("storage_key"),
        Index("ix_uploads_owner_id", "owner_id"),
        # The maintenance job's scan: unattached uploads, oldest first.
        Index("ix_uploads_unattached", "created_at", postgresql_where=text("subject_id IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # RESTRICT: deleting an account must first decide what happens to its files (attached notice
    # images outlive their author's account). NULL: uploaded without an account (an anonymous
    # complaint's photos); such uploads are attached only by ``attach(owner_id=None, ...)``.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    purpose: Mapped[str] = mapped_column(String(32))
    storage_key: Mapped[str] = mapped_column(String(200))  # random; never the client's file name
    content_type: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)  # None: not an image (a filing document's PDF)
    height: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))  # of the stored (cleaned) bytes
    created_at: Mapped[dt.datetime] = created_at()
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None]
    position: Mapped[int | None] = mapped_column(SmallInteger)


register_constraint_messages(
    {
        "uq_uploads_subject_type_subject_id_position": (
            "attachments_changed",
            "The attachments were changed at the same time; try again",
            "附件同时被修改，请重试",
        ),
    }
)
