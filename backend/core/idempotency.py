"""``Idempotency-Key`` for POSTs that create things (applications, bookings).

The key is claimed by inserting a row in the request's own transaction; the response is stored in
the same row before commit. A retry with the same key and body replays the stored response; the
same key with another body answers 422. Two concurrent requests with one key: PostgreSQL makes the
second insert wait for the first transaction, then sees its committed row and replays it, so exactly
one thing is created. Keys belong to an account and are kept 24 hours.

*Sealed* keys (``Sealed``, ``sealed_replay``, ``seal``; table ``sealed_idempotency_keys``) serve routes
whose callers may be anonymous and whose answer holds a secret shown once — complaint filing and its
tracking code: scoped by the key alone, stored as a keyed digest, the answer encrypted under a key
derived from the Idempotency-Key (see below).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import MediaType, Request, Response
from sqlalchemy import ForeignKey, LargeBinary, SmallInteger, String, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from backend.core import tx
from backend.core.config import Settings
from backend.core.db import Base, created_at
from backend.core.errors import Conflict, RuleViolation
from backend.core.maintenance import periodic
from backend.core.security import keyed_digest

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
TTL = dt.timedelta(hours=24)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = created_at()


def fingerprint(request: Request[Any, Any, Any], data: msgspec.Struct) -> bytes:
    body = msgspec.json.encode(data)
    return hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).digest()


async def _claim(db: AsyncSession, account_id: uuid.UUID, key: str, request_hash: bytes) -> Response[Any] | None:
    claimed = await db.scalar(
        insert(IdempotencyKey)
        .values(account_id=account_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if claimed is not None:
        return None
    row = (
        await db.execute(
            select(IdempotencyKey).where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key)
        )
    ).scalar_one()
    if row.request_hash != request_hash:
        raise RuleViolation(
            "This Idempotency-Key was already used for a different request",
            detail_zh="该幂等键已用于另一个不同的请求",
            code="idempotency_key_reused",
        )
    if row.response is None or row.status_code is None:  # pragma: no cover - claim and response commit together
        raise Conflict("The first request with this key is still running", code="idempotency_in_progress")
    return Response(
        row.response, status_code=row.status_code, media_type=MediaType.JSON, headers={"Idempotent-Replayed": "true"}
    )


async def create_once(
    db: AsyncSession,
    request: Request[Any, Any, Any],
    account_id: uuid.UUID,
    key: str | None,
    data: msgspec.Struct,
    create: Callable[[], Awaitable[msgspec.Struct]],
    status_code: int = 201,
) -> Response[Any]:
    """Run ``create`` and commit, once per (account, key); replay the first response for retries."""
    if key is not None:
        replay = await _claim(db, account_id, key, fingerprint(request, data))
        if replay is not None:
            return replay
    body = msgspec.json.encode(await create())
    if key is not None:
        stored = await db.get(IdempotencyKey, (account_id, key))
        assert stored is not None
        stored.status_code, stored.response = status_code, body
    await tx.commit_with_cleanup(db)
    return Response(body, status_code=status_code, media_type=MediaType.JSON)


@periodic("idempotency_keys")
async def purge_keys(db: AsyncSession, _settings: Settings) -> int:
    result = await db.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - TTL))
    sealed = await db.execute(delete(SealedIdempotencyKey).where(SealedIdempotencyKey.created_at < func.now() - TTL))
    return (result.rowcount or 0) + (sealed.rowcount or 0)


# ------------------------------------------------------------------------------------------ sealed keys
#
# For routes whose callers may be anonymous and whose answer holds a secret shown once (a complaint's
# tracking code, kept elsewhere only as a keyed digest). The key is scoped by itself (and the route):
# it must be long and random (the PWA sends a UUID), so it names one filing on one device. Only a
# keyed digest of it is stored, and the stored answer is encrypted (AES-256-GCM) under a key derived
# from the Idempotency-Key: the table alone, even with SECRET_KEY, gives no tracking code away — only
# the device that holds the key can have the answer replayed.

SEALED_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,200}$"


class SealedIdempotencyKey(Base):
    __tablename__ = "sealed_idempotency_keys"

    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[bytes] = mapped_column(LargeBinary)  # nonce (12 bytes) + AES-GCM ciphertext
    created_at: Mapped[dt.datetime] = created_at()


class ClaimedMeanwhile(Exception):
    """A concurrent request with the same key committed first (raised to roll this one back)."""


class Sealed:
    """One request's sealed key: where it is stored, how its answer is encrypted."""

    def __init__(self, secret_key: str, scope: str, key: str, request_hash: bytes) -> None:
        self.digest = keyed_digest(secret_key, "idempotency-key", f"{scope}\n{key}")
        self._cipher = AESGCM(keyed_digest(secret_key + key, "idempotency-seal", scope))
        self.request_hash = request_hash

    def encrypt(self, body: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._cipher.encrypt(nonce, body, self.digest)

    def decrypt(self, sealed: bytes) -> bytes:
        return self._cipher.decrypt(sealed[:12], sealed[12:], self.digest)


async def sealed_replay(db: AsyncSession, sealed: Sealed) -> Response[Any] | None:
    """The first answer again for a retry with the same key and request; 422 for the same key with a
    different request; None when the key is new."""
    row = await db.get(SealedIdempotencyKey, sealed.digest)
    if row is None:
        return None
    if not hmac.compare_digest(row.request_hash, sealed.request_hash):
        raise RuleViolation(
            "This Idempotency-Key was already used for a different request",
            detail_zh="该幂等键已用于另一个不同的请求",
            code="idempotency_key_reused",
        )
    return Response(
        sealed.decrypt(row.response),
        status_code=row.status_code,
        media_type=MediaType.JSON,
        headers={"Idempotent-Replayed": "true", "Cache-Control": "no-store"},
    )


async def seal(db: AsyncSession, sealed: Sealed, status_code: int, body: bytes) -> None:
    """Keep the answer, in the caller's transaction (before it commits). If a concurrent request with
    the same key got there first, PostgreSQL makes this insert wait for it; then ``ClaimedMeanwhile``
    is raised, the caller rolls back and answers with ``sealed_replay``."""
    stored = await db.scalar(
        insert(SealedIdempotencyKey)
        .values(
            key_digest=sealed.digest,
            request_hash=sealed.request_hash,
            status_code=status_code,
            response=sealed.encrypt(body),
        )
        .on_conflict_do_nothing()
        .returning(SealedIdempotencyKey.key_digest)
    )
    if stored is None:
        raise ClaimedMeanwhile
