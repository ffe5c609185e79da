"""Sliding-window rate limits kept in PostgreSQL, so every app process shares them.

Counts are kept per fixed window (``window_s`` long), and a limit is checked against a sliding window:
the current window's count plus the previous window's, weighted by how much of it the sliding window
still covers (the "sliding window counter": ``hits_now + hits_before * (1 - elapsed / window)``). A
fixed window alone let an attacker spend the whole limit just before a boundary and again just after
it (twice the limit within seconds); with the weighting, any ``window_s`` holds about the limit at most.

A hit is one upsert that returns the current window's count; PostgreSQL's row lock on the counter
makes concurrent hits count exactly, and the previous window no longer changes. Keys are stored as
keyed hashes, so the table holds no phone numbers or addresses, and rows are deleted a day after
their window (``purge_expired``). Callers that refuse a request must commit before raising, so the
refused attempt still counts.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import LargeBinary, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from backend.core import metrics, tx
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
    WITH current AS (
        INSERT INTO rate_limit_counters AS c (key_hash, window_start, window_seconds, hits)
        VALUES (:key, to_timestamp(floor(extract(epoch FROM now()) / :window) * :window), :window, 1)
        ON CONFLICT (key_hash, window_start) DO UPDATE SET hits = c.hits + 1
        RETURNING hits, window_start
    )
    SELECT current.hits, coalesce(previous.hits, 0) AS previous_hits,
           extract(epoch FROM now()) - extract(epoch FROM current.window_start) AS elapsed
    FROM current
    LEFT JOIN rate_limit_counters previous
      ON previous.key_hash = :key AND previous.window_start = current.window_start - make_interval(secs => :window)
    """
)


def sliding_count(hits: int, previous_hits: int, elapsed: float, window_s: int) -> float:
    """The attempts in the last ``window_s`` seconds, estimated from the two fixed windows."""
    covered = max(0.0, min(1.0, 1.0 - elapsed / window_s))
    return hits + previous_hits * covered


def retry_after_s(hits: int, previous_hits: int, elapsed: float, window_s: int, limit: int) -> int:
    """Seconds until the sliding count is back within ``limit``."""
    if hits > limit or previous_hits == 0:
        return max(1, math.ceil(window_s - elapsed))  # only the next window helps
    # hits + previous * (1 - t / window) <= limit  <=>  t >= window * (1 - (limit - hits) / previous)
    needed = window_s * (1.0 - (limit - hits) / previous_hits)
    return max(1, math.ceil(needed - elapsed))


async def hit(db: AsyncSession, secret_key: str, key: str, *, limit: int, window_s: int) -> tuple[bool, int]:
    """Count one attempt under ``key``; return (allowed, seconds until another would be)."""
    row = (await db.execute(_HIT, {"key": keyed_digest(secret_key, "ratelimit", key), "window": window_s})).one()
    elapsed = float(row.elapsed)
    if sliding_count(row.hits, row.previous_hits, elapsed, window_s) <= limit:
        return True, 1
    return False, retry_after_s(row.hits, row.previous_hits, elapsed, window_s, limit)


async def enforce(db: AsyncSession, secret_key: str, key: str, *, limit: int, window_s: int, **error: str) -> None:
    """Count one attempt; when over the limit, commit the count and raise 429."""
    allowed, retry_after = await hit(db, secret_key, key, limit=limit, window_s=window_s)
    if not allowed:
        await tx.commit_before_refusing(db)
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
