"""Children and their guardians. A child record holds only a name and a birth date (PIPL: the minimum)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk

RELATIONS = ("mother", "father", "grandparent", "other")


class Child(Base):
    __tablename__ = "children"
    __table_args__ = (CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(50))
    birth_date: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = created_at()


class Guardianship(Base):
    __tablename__ = "guardianships"
    __table_args__ = (
        CheckConstraint("relation IN ('mother', 'father', 'grandparent', 'other')", name="relation"),
        Index("ix_guardianships_account_id", "account_id"),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = created_at()
