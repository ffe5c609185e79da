"""Filings (备案): one dossier per institution and the history of its submissions and decisions.

The dossier's ``status`` mirrors ``institutions.filing_status`` (changed in the same transaction):
unfiled (a draft, never submitted) -> submitted -> filed | returned; returned -> submitted again.
Its documents are uploads (purpose ``filing_document``) attached with the subject type
``filing_<kind>`` and the filing's id, so each kind holds an ordered list of 1..N files.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, updated_at, uuid_pk


class DocumentKind(StrEnum):
    BUSINESS_LICENCE = "business_licence"  # 营业执照
    LEGAL_PERSON_CERTIFICATE = "legal_person_certificate"  # 事业单位/民办非企业单位法人证书
    SITE_PROOF = "site_proof"  # 场地证明
    STAFF_QUALIFICATIONS = "staff_qualifications"  # 从业人员资格证书
    HEALTH_CERTIFICATES = "health_certificates"  # 健康证明
    HEALTH_EVALUATION = "health_evaluation"  # 卫生评价报告（合格）
    FIRE_SAFETY = "fire_safety"  # 消防安全证明
    FOOD_LICENCE = "food_licence"  # 食品经营许可证 (only when meals are served)


KIND_ZH = {
    DocumentKind.BUSINESS_LICENCE: "营业执照",
    DocumentKind.LEGAL_PERSON_CERTIFICATE: "事业单位/民办非企业单位法人证书",
    DocumentKind.SITE_PROOF: "场地证明",
    DocumentKind.STAFF_QUALIFICATIONS: "从业人员资格证书",
    DocumentKind.HEALTH_CERTIFICATES: "健康证明",
    DocumentKind.HEALTH_EVALUATION: "卫生评价报告（合格）",
    DocumentKind.FIRE_SAFETY: "消防安全证明",
    DocumentKind.FOOD_LICENCE: "食品经营许可证",
}

# Either of these (the registration document) is required.
REGISTRATION_KINDS = (DocumentKind.BUSINESS_LICENCE, DocumentKind.LEGAL_PERSON_CERTIFICATE)
ALWAYS_REQUIRED = (
    DocumentKind.SITE_PROOF,
    DocumentKind.STAFF_QUALIFICATIONS,
    DocumentKind.HEALTH_CERTIFICATES,
    DocumentKind.HEALTH_EVALUATION,
    DocumentKind.FIRE_SAFETY,
)
MAX_FILES_PER_KIND = 10
SUBJECT_PREFIX = "filing_"


def subject_type(kind: str) -> str:
    return f"{SUBJECT_PREFIX}{kind}"


STATUSES = ("unfiled", "submitted", "filed", "returned")
ACTIONS = ("submitted", "approved", "returned")


class Filing(Base):
    __tablename__ = "filings"
    __table_args__ = (
        CheckConstraint("status IN ('unfiled', 'submitted', 'filed', 'returned')", name="status"),
        CheckConstraint("submission >= 0", name="submission_non_negative"),
        CheckConstraint(
            "status = 'unfiled' OR (submitted_at IS NOT NULL AND due_at IS NOT NULL AND submission > 0)",
            name="submitted_with_due_date",
        ),
        CheckConstraint("status NOT IN ('filed', 'returned') OR decided_at IS NOT NULL", name="decided_when_decided"),
        CheckConstraint(
            "(status = 'returned') = (return_reasons IS NOT NULL AND length(btrim(return_reasons)) > 0)",
            name="returned_with_reasons",
        ),
        # The officers' queue: submitted filings by due date.
        Index("ix_filings_submitted_due", "due_at", postgresql_where=text("status = 'submitted'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'unfiled'"), default="unfiled")
    serves_meals: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    submission: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)  # submissions so far
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    return_reasons: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class FilingHistory(Base):
    """Every submission and decision: what, which submission, who, when, why (returns)."""

    __tablename__ = "filing_history"
    __table_args__ = (
        CheckConstraint("action IN ('submitted', 'approved', 'returned')", name="action"),
        CheckConstraint(
            "action <> 'returned' OR (reasons IS NOT NULL AND length(btrim(reasons)) > 0)", name="returned_with_reasons"
        ),
        Index("ix_filing_history_filing_id", "filing_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    filing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("filings.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    submission: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    reasons: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = created_at()
