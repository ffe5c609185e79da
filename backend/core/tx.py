"""Where a transaction is committed, and why.

The rule (``core/db.py``): services flush; the route handler commits, once, at the end, so a failing
request writes nothing. Every other commit is one of these named exceptions, and calls its helper — a
test (``tests/core/test_transactions.py``) fails on a ``commit()`` anywhere else in ``backend/`` but
route modules and the two middlewares named there. docs/architecture.md, "Transactions", lists them.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def commit_before_refusing(db: AsyncSession) -> None:
    """A trace that must stand though the request is (or may yet be) refused, committed before the error
    that would roll it back: an attempt or rate-limit count, a failure count, a sign-in code or OAuth
    state used up, an offer that expired."""
    await db.commit()


async def commit_sign_in_step(db: AsyncSession) -> None:
    """A step of signing in that must be stored before the answer leaves or an outside party is asked:
    the SMS code before it is sent, WeChat's OAuth state before the redirect, a pending binding."""
    await db.commit()


async def commit_outside_request(db: AsyncSession) -> None:
    """Work that runs outside any request — workers (Web Push, SMS, WeChat), the periodic jobs, CLI
    commands, the demo seed, a socket's handshake — so no handler commits it: each step its own
    transaction."""
    await db.commit()


async def commit_before_storage(db: AsyncSession) -> None:
    """Rows committed on their own before objects are written to (or after they are deleted from)
    storage, so no object ever lacks a row; a failure after it is cleaned up by the caller."""
    await db.commit()


async def commit_with_cleanup(db: AsyncSession) -> None:
    """A request's one commit, made by a service or shared helper because what follows a failed commit
    must happen there: the uploads it stored are discarded (a complaint and its photos), or the answer
    stored for an Idempotency-Key goes with it."""
    await db.commit()


async def commit_shared_cache(db: AsyncSession) -> None:
    """A shared cached value (WeChat's access tokens) refreshed under its row lock, committed at once so
    that every process sees it and the lock is released before the caller goes on."""
    await db.commit()
