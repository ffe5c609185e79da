"""Signed-in sessions: opaque tokens stored by digest, checked on every request, revocable at once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar.datastructures import Cookie
from sqlalchemy import delete, func, or_, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import AuthSession, OtpCode, WsTicket
from backend.core.authz import Grant, Principal, Role
from backend.core.config import Settings
from backend.core.maintenance import periodic
from backend.core.security import csrf_token, new_session_token, token_digest

SESSION_COOKIE = "dq_session"
CSRF_COOKIE = "dq_csrf"
CSRF_HEADER = "x-csrf-token"

# One round trip: the live session, its account and all role grants.
_RESOLVE = """
    SELECT s.id AS session_id, s.account_id, s.expires_at,
           coalesce(array_agg(g.role ORDER BY g.role) FILTER (WHERE g.role IS NOT NULL), '{}') AS roles,
           coalesce(array_agg(g.institution_id ORDER BY g.role) FILTER (WHERE g.role IS NOT NULL), '{}') AS institutions,
           coalesce(array_agg(g.department_code ORDER BY g.role) FILTER (WHERE g.role IS NOT NULL), '{}') AS departments,
           coalesce(array_agg(g.unit_code ORDER BY g.role) FILTER (WHERE g.role IS NOT NULL), '{}') AS units
    FROM auth_sessions s
    JOIN accounts a ON a.id = s.account_id
    LEFT JOIN role_grants g ON g.account_id = s.account_id
    WHERE {match} AND s.revoked_at IS NULL AND s.expires_at > now() AND a.disabled_at IS NULL
    GROUP BY s.id, s.account_id
"""
_BY_TOKEN = text(_RESOLVE.replace("{match}", "s.token_hash = :digest"))
_BY_ID = text(_RESOLVE.replace("{match}", "s.id = :session_id"))


def session_cookies(settings: Settings, token: str, session: AuthSession) -> list[Cookie]:
    """The HttpOnly session cookie and the readable CSRF cookie of a new session."""
    max_age = settings.session_ttl_hours * 3600
    common = {"samesite": "lax", "secure": settings.cookie_secure, "max_age": max_age, "path": "/"}
    return [
        Cookie(key=SESSION_COOKIE, value=token, httponly=True, **common),  # type: ignore[arg-type]
        Cookie(
            key=CSRF_COOKIE,
            value=csrf_token(settings.secret_key, str(session.id)),
            httponly=False,
            **common,  # type: ignore[arg-type]
        ),
    ]


async def create_session(db: AsyncSession, settings: Settings, account_id: uuid.UUID) -> tuple[str, AuthSession]:
    token = new_session_token()
    session = AuthSession(
        id=uuid.uuid4(),
        token_hash=token_digest(token),
        account_id=account_id,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=settings.session_ttl_hours),
    )
    db.add(session)
    await db.flush()
    return token, session


async def resolve_session(db: AsyncSession, token: str, *, via_cookie: bool) -> Principal | None:
    row = (await db.execute(_BY_TOKEN, {"digest": token_digest(token)})).one_or_none()
    return _principal(row, via_cookie=via_cookie)


async def resolve_session_id(db: AsyncSession, session_id: uuid.UUID) -> Principal | None:
    """A live session by id (a redeemed WebSocket ticket names one)."""
    row = (await db.execute(_BY_ID, {"session_id": session_id})).one_or_none()
    return _principal(row, via_cookie=False)


def _principal(row: Any, *, via_cookie: bool) -> Principal | None:
    if row is None:
        return None
    grants = tuple(
        Grant(Role(role), institution_id, department_code, unit_code)
        for role, institution_id, department_code, unit_code in zip(
            row.roles, row.institutions, row.departments, row.units, strict=True
        )
    )
    return Principal(
        account_id=row.account_id,
        session_id=row.session_id,
        grants=grants,
        via_cookie=via_cookie,
        session_expires_at=row.expires_at,
    )


@periodic("auth_sessions")
async def purge_sessions(db: AsyncSession, _settings: Settings) -> int:
    """Expired or revoked sessions are kept a week (for support questions), then deleted."""
    result = await db.execute(
        delete(AuthSession).where(
            or_(
                AuthSession.expires_at < func.now() - dt.timedelta(days=7),
                AuthSession.revoked_at < func.now() - dt.timedelta(days=7),
            )
        )
    )
    return result.rowcount or 0


@periodic("otp_codes")
async def purge_codes(db: AsyncSession, _settings: Settings) -> int:
    """Sign-in codes (and the phone numbers they were sent to) are deleted a day after they were sent."""
    result = await db.execute(delete(OtpCode).where(OtpCode.created_at < func.now() - dt.timedelta(days=1)))
    return result.rowcount or 0


async def revoke_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )


async def revoke_other_sessions(db: AsyncSession, account_id: uuid.UUID, keep: uuid.UUID) -> int:
    """End every live session of the account but ``keep`` (their sockets close: trigger → dq_sessions)."""
    result = await db.execute(
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.id != keep, AuthSession.revoked_at.is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    return result.rowcount or 0


TICKET_TTL = dt.timedelta(seconds=30)


async def issue_ticket(db: AsyncSession, session_id: uuid.UUID) -> tuple[str, dt.datetime]:
    """A WebSocket ticket for this session: single use, valid 30 seconds."""
    ticket = new_session_token()
    expires = dt.datetime.now(dt.UTC) + TICKET_TTL
    db.add(WsTicket(ticket_hash=token_digest(ticket), session_id=session_id, expires_at=expires))
    await db.flush()
    return ticket, expires


async def redeem_ticket(db: AsyncSession, ticket: str) -> uuid.UUID | None:
    """The session a valid, unused ticket names; the ticket is used up (the caller commits)."""
    return await db.scalar(
        update(WsTicket)
        .where(
            WsTicket.ticket_hash == token_digest(ticket),
            WsTicket.used_at.is_(None),
            WsTicket.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(WsTicket.session_id)
    )


@periodic("ws_tickets")
async def purge_tickets(db: AsyncSession, _settings: Settings) -> int:
    result = await db.execute(delete(WsTicket).where(WsTicket.expires_at < func.now() - dt.timedelta(hours=1)))
    return result.rowcount or 0
