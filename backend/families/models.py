"""Children and their guardians. A child record holds only a name and a birth date (PIPL: the minimum),
both encrypted at the application layer (backend/core/crypto.py), and is stored only with a guardian's
recorded consent (``guardian_consents``; a deferred constraint trigger refuses a child without one)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.crypto import EncryptedDate, EncryptedText
from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages

RELATIONS = ("mother", "father", "grandparent", "other")


class Child(Base):
    __tablename__ = "children"
    # Only ciphertexts in the application's format fit (version byte 1, key id, nonce, tag).
    __table_args__ = (
        CheckConstraint("octet_length(name) >= 30 AND get_byte(name, 0) = 1", name="name_encrypted"),
        CheckConstraint("octet_length(birth_date) >= 30 AND get_byte(birth_date, 0) = 1", name="birth_date_encrypted"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(EncryptedText("children.name"))
    birth_date: Mapped[dt.date] = mapped_column(EncryptedDate("children.birth_date"))
    created_at: Mapped[dt.datetime] = created_at()


class Guardianship(Base):
    __tablename__ = "guardianships"
    __table_args__ = (
        CheckConstraint("relation IN ('mother', 'father', 'grandparent', 'other')", name="relation"),
        Index("ix_guardianships_account_id", "account_id"),
        # A guardian cannot register the same child (normalised name + birth date) twice.
        UniqueConstraint("account_id", "child_fingerprint"),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))
    # The child's blind index (crypto.ChildDataKeys.fingerprint: a keyed hash, not the data). Set by the
    # service on every write; NULL only for rows written around it (test fixtures, demo data, and
    # duplicates migration 0014 found among older rows), which are then simply not checked.
    child_fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = created_at()


class GuardianConsent(Base):
    """A guardian's consent to the processing of a child's data (PIPL art. 31: under-14s need their
    guardian's consent), under a version of the privacy policy. No copy of the child's data."""

    __tablename__ = "guardian_consents"
    __table_args__ = (
        CheckConstraint("policy_version ~ '^[0-9]{4}-[0-9]{2}$'", name="policy_version_format"),
        UniqueConstraint("child_id", "account_id", "policy_version"),
        Index("ix_guardian_consents_account_id", "account_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    policy_version: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


register_constraint_messages(
    {
        "uq_guardianships_account_id_child_fingerprint": (
            "child_already_added",
            "You have already registered a child with this name and birth date",
            "您已登记过同名且出生日期相同的孩子",
        ),
    }
)
