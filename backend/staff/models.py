"""Institution staff rosters (工作人员名册): who works at an institution, in which role.

A member is identified by the keyed hash of their resident ID number (``blacklist/idnumber.py``) and
the last four characters of it; the number itself is never stored. A member given with a phone number
that belongs to a platform account gets ``institution_staff`` at the institution (``grant_id``
records the grant we made, so removing the member removes exactly that grant).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages

STAFF_ROLES = ("head", "carer", "health_worker", "guard", "cook", "other")
STAFF_ROLE_ZH = {
    "head": "负责人",
    "carer": "保育人员",
    "health_worker": "保健人员",
    "guard": "保安",
    "cook": "炊事人员",
    "other": "其他",
}


class StaffMember(Base):
    __tablename__ = "staff_members"
    __table_args__ = (
        CheckConstraint("staff_role IN (" + ", ".join(f"'{r}'" for r in STAFF_ROLES) + ")", name="staff_role"),
        CheckConstraint("length(btrim(display_name)) > 0", name="display_name_not_blank"),
        CheckConstraint("octet_length(id_hash) = 32", name="id_hash_length"),
        CheckConstraint("id_last4 ~ '^[0-9]{3}[0-9X]$'", name="id_last4_format"),
        CheckConstraint("phone ~ '^1[3-9][0-9]{9}$'", name="phone_format"),
        UniqueConstraint("institution_id", "id_hash"),
        Index("ix_staff_members_id_hash", "id_hash"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(40))
    staff_role: Mapped[str] = mapped_column(String(16))
    id_hash: Mapped[bytes] = mapped_column(LargeBinary)
    id_last4: Mapped[str] = mapped_column(String(4))
    phone: Mapped[str | None] = mapped_column(String(11))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    grant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("role_grants.id", ondelete="SET NULL"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at()


register_constraint_messages(
    {
        "uq_staff_members_institution_id_id_hash": (
            "already_on_roster",
            "This person is already on the institution's staff roster",
            "该人员已在本机构工作人员名册中",
        ),
    }
)
