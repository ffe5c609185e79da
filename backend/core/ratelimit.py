"""Fixed-window rate limits kept in PostgreSQL, so every app process shares them.

A hit is one upsert that returns the window's count; PostgreSQL's row lock on the counter makes
concurrent hits count exactly. Keys are stored as keyed hashes, so the table holds no phone
numbers or addresses, and rows are deleted a day after their window (``purge_expired``).
Callers that refuse a request must commit before raising, so the refused attempt still counts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from backend.core import metrics
from backend.core.config import Settings
from backend.core.db import Base
from backend.core.errors import RateLimited
from backend.core.maintenance import periodic
from backend.core.security import keyed_digest


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    window_seconds: Mapped[int]
    hits: Mapped[int]


_HIT = text(
    """
    INSERT INTO rate_limit_counters AS c (key_hash, window_start, window_seconds, hits)
    VALUES (:key, to_timestamp(floor(extract(epoch FROM now()) / :window) * :window), :window, 1)
    ON CONFLICT (key_hash, window_start) DO UPDATE SET hits = c.hits + 1
    RETURNING hits, ceil(extract(epoch FROM c.window_start) + :window - extract(epoch FROM now()))::int AS retry_after
    """
)


async def hit(db: AsyncSession, secret_key: str, key: str, *, limit: int, window_s: int) -> tuple[bool, int]:
    """Count one attempt under ``key``; return (allowed, seconds until the window resets)."""
    row = (await db.execute(_HIT, {"key": keyed_digest(secret_key, "ratelimit", key), "window": window_s})).one()
    return row.hits <= limit, max(1, row.retry_after)


async def enforce(db: AsyncSession, secret_key: str, key: str, *, limit: int, window_s: int, **error: str) -> None:
    """Count one attempt; when over the limit, commit the count and raise 429."""
    allowed, retry_after = await hit(db, secret_key, key, limit=limit, window_s=window_s)
    if not allowed:
        await db.commit()
        metrics.rate_limit_refused(key.split(":", 1)[0])  # the limit's name, never the phone or address
        raise RateLimited(retry_after, **error)


_REFUND = text(
    """
    UPDATE rate_limit_counters SET hits = greatest(hits - 1, 0)
    WHERE key_hash = :key AND window_start = to_timestamp(floor(extract(epoch FROM now()) / :window) * :window)
    """
)


async def refund(db: AsyncSession, secret_key: str, key: str, *, window_s: int) -> None:
    """Give back one attempt counted by ``hit`` (a sign-in that succeeded is not a failure).

    Counting first and refunding after keeps concurrent attempts exact: each takes its place in
    the count before it is checked, so N parallel guesses never slip past a limit below N."""
    await db.execute(_REFUND, {"key": keyed_digest(secret_key, "ratelimit", key), "window": window_s})


@periodic("rate_limit_counters")
async def purge_expired(db: AsyncSession, _settings: Settings) -> int:
    result = await db.execute(
        text(
            "DELETE FROM rate_limit_counters WHERE window_start + make_interval(secs => window_seconds) < now() - interval '1 day'"
        )
    )
    return result.rowcount or 0
