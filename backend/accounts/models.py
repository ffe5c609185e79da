"""Accounts, their roles, sessions and sign-in codes."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.core.authz import Role
from backend.core.db import Base, created_at, uuid_pk

PHONE_PATTERN = r"^1[3-9][0-9]{9}$"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        # An erased account (migration 0015) is a tombstone: no login, no name, no password.
        CheckConstraint("phone IS NOT NULL OR email IS NOT NULL OR erased_at IS NOT NULL", name="has_login"),
        CheckConstraint(
            "erased_at IS NULL OR (phone IS NULL AND email IS NULL AND display_name IS NULL AND password_hash IS NULL)",
            name="erased_is_empty",
        ),
        Index("ix_accounts_erased_at", "erased_at", postgresql_where=text("erased_at IS NOT NULL")),
        CheckConstraint(f"phone ~ '{PHONE_PATTERN}'", name="phone_format"),
        CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="email_format"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    phone: Mapped[str | None] = mapped_column(String(11), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    created_at: Mapped[dt.datetime] = created_at()
    disabled_at: Mapped[dt.datetime | None]
    erased_at: Mapped[dt.datetime | None]  # the holder erased their data (backend/privacy)

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="account", lazy="raise")


class RoleGrant(Base):
    """One role of an account, with its scope: an institution, or a department (and optionally a unit)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in Role) + ")", name="role"),
        CheckConstraint(
            "CASE role"
            " WHEN 'institution_staff' THEN institution_id IS NOT NULL AND department_code IS NULL AND unit_code IS NULL"
            " WHEN 'institution_admin' THEN institution_id IS NOT NULL AND department_code IS NULL AND unit_code IS NULL"
            " WHEN 'officer' THEN institution_id IS NULL AND department_code IS NOT NULL"
            " ELSE institution_id IS NULL AND department_code IS NULL AND unit_code IS NULL END",
            name="scope_matches_role",
        ),
        Index(
            "uq_role_grants_scope",
            "account_id",
            "role",
            "institution_id",
            "department_code",
            "unit_code",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_role_grants_institution_id", "institution_id", postgresql_where=text("institution_id IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(24))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("units.code"))
    created_at: Mapped[dt.datetime] = created_at()

    account: Mapped[Account] = relationship(back_populates="grants", lazy="raise")


class AuthSession(Base):
    """A signed-in device. The bearer token / cookie value is stored only as its SHA-256 digest."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_account_id", "account_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class OtpCode(Base):
    """A one-time sign-in code sent by SMS, stored as a keyed hash; dies after its TTL or a few tries."""

    __tablename__ = "otp_codes"
    __table_args__ = (
        Index("ix_otp_codes_phone_created_at", "phone", "created_at"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    phone: Mapped[str] = mapped_column(String(11))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), default=0)
    consumed_at: Mapped[dt.datetime | None]


class WsTicket(Base):
    """A single-use ticket, valid for seconds, to open a WebSocket without a cookie (stored as a digest)."""

    __tablename__ = "ws_tickets"

    ticket_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
