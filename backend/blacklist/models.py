"""The blacklist (黑名单): institutions and individual people barred from childcare services.

An entry is about an institution or a person. A person is identified only by the keyed hash of their
resident ID number (``idnumber.py``), the name officers see, and the last four characters of the
number. Entries are never deleted: revoking one records why, by whom and when.

*Active* = not revoked. One active entry per institution and per person: partial unique indexes.
*In force* = active and today (Asia/Shanghai) lies within ``effective_from`` … ``effective_until``
(inclusive; no end = indefinitely). Only entries in force have effects (no bookings, no roster).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    and_,
    exists,
    func,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages

KINDS = ("institution", "person")
MAX_REASON = 2000


class BlacklistEntry(Base):
    __tablename__ = "blacklist_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('institution', 'person')", name="kind"),
        CheckConstraint(
            "CASE kind"
            " WHEN 'institution' THEN institution_id IS NOT NULL AND id_hash IS NULL AND person_name IS NULL"
            " AND id_last4 IS NULL"
            " ELSE institution_id IS NULL AND id_hash IS NOT NULL AND person_name IS NOT NULL END",
            name="subject_matches_kind",
        ),
        CheckConstraint("octet_length(id_hash) = 32", name="id_hash_length"),
        CheckConstraint("id_last4 ~ '^[0-9]{3}[0-9X]$'", name="id_last4_format"),
        CheckConstraint("length(btrim(person_name)) > 0", name="person_name_not_blank"),
        CheckConstraint(f"length(btrim(reason)) BETWEEN 1 AND {MAX_REASON}", name="reason_not_blank"),
        CheckConstraint("length(btrim(decision_no)) > 0", name="decision_no_not_blank"),
        CheckConstraint("effective_until IS NULL OR effective_until > effective_from", name="until_after_from"),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL) AND (revoked_at IS NULL) = (revoke_reason IS NULL)",
            name="revocation_complete",
        ),
        CheckConstraint("length(btrim(revoke_reason)) > 0", name="revoke_reason_not_blank"),
        # Active (not revoked): at most one per institution and one per person.
        Index(
            "uq_blacklist_entries_active_institution",
            "institution_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL AND institution_id IS NOT NULL"),
        ),
        Index(
            "uq_blacklist_entries_active_person",
            "id_hash",
            unique=True,
            postgresql_where=text("revoked_at IS NULL AND id_hash IS NOT NULL"),
        ),
        Index("ix_blacklist_entries_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(12))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"))
    id_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    person_name: Mapped[str | None] = mapped_column(String(40))  # for officers only; never public
    id_last4: Mapped[str | None] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    decision_no: Mapped[str] = mapped_column(String(60))  # e.g. 卫健罚〔2026〕12号
    decided_on: Mapped[dt.date]
    effective_from: Mapped[dt.date]
    effective_until: Mapped[dt.date | None]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = created_at()
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


register_constraint_messages(
    {
        "uq_blacklist_entries_active_institution": (
            "already_blacklisted",
            "This institution already has an active blacklist entry",
            "该机构已在黑名单中（存在未撤销的记录）",
        ),
        "uq_blacklist_entries_active_person": (
            "already_blacklisted",
            "This person already has an active blacklist entry",
            "该人员已在黑名单中（存在未撤销的记录）",
        ),
        "ck_blacklist_entries_reason_not_blank": (
            "reason_blank",
            "A reason is required",
            "请填写列入黑名单的原因",
        ),
        "ck_blacklist_entries_until_after_from": (
            "effective_until_before_from",
            "The end date must be after the start date",
            "失效日期必须晚于生效日期",
        ),
    }
)


def local_today_sql() -> ColumnElement[Any]:
    """Today in Daqing (Asia/Shanghai), computed by PostgreSQL (the transaction's ``now()``)."""
    return func.timezone("Asia/Shanghai", func.now()).cast(Date)


def in_force(entry: type[BlacklistEntry] = BlacklistEntry) -> ColumnElement[bool]:
    today = local_today_sql()
    return and_(
        entry.revoked_at.is_(None),
        entry.effective_from <= today,
        or_(entry.effective_until.is_(None), entry.effective_until >= today),
    )


def institution_blacklisted(institution_id: Any) -> Any:
    """EXISTS an entry in force for ``institution_id`` (a column or a value); reads the partial unique index."""
    return exists().where(
        BlacklistEntry.institution_id == institution_id,
        BlacklistEntry.institution_id.is_not(None),
        in_force(),
    )


def person_blacklisted(id_hash: Any) -> Any:
    """EXISTS an entry in force for ``id_hash``; reads the partial unique index."""
    return exists().where(BlacklistEntry.id_hash == id_hash, BlacklistEntry.id_hash.is_not(None), in_force())
