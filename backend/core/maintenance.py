"""Periodic jobs: housekeeping (expired codes, sessions, counters) and timed transitions (offers
that expire).

Domains register jobs with ``@periodic``. Every app process runs the loop, but an advisory
lock lets only one of them work at a time. ``MAINTENANCE_INTERVAL_S=0`` turns the loop off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core import metrics, tx
from backend.core.config import Settings

log = logging.getLogger("backend.maintenance")

Job = Callable[[AsyncSession, Settings], Awaitable[int]]
JOBS: dict[str, Job] = {}
_LOCK_KEY = 0x64716D61696E  # "dqmain"


def periodic(name: str) -> Callable[[Job], Job]:
    """Register a job; it returns how many rows it handled."""

    def register(fn: Job) -> Job:
        JOBS[name] = fn
        return fn

    return register


async def run_once(db: AsyncSession, settings: Settings) -> dict[str, int] | None:
    """Run every job in one transaction; None if another process holds the lock."""
    if not await db.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}):
        await db.rollback()
        return None
    counts: dict[str, int] = {}
    for name, fn in JOBS.items():
        try:
            counts[name] = await fn(db, settings)
        except Exception:
            metrics.maintenance_job(name, ok=False)
            raise
        metrics.maintenance_job(name, ok=True)
    await tx.commit_outside_request(db)
    return counts


@contextlib.asynccontextmanager
async def maintenance_loop(app: Any) -> AsyncIterator[None]:
    """Lifespan: run ``run_once`` every MAINTENANCE_INTERVAL_S seconds in the background."""
    interval = app.state.settings.maintenance_interval_s
    if interval <= 0:
        yield
        return

    maker = app.state.alchemy.create_session_maker()  # the engine's sessions (plugin state may not exist yet)

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                async with maker() as db:
                    counts = await run_once(db, app.state.settings)
                if counts:
                    log.info("maintenance: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
            except Exception:
                log.warning("maintenance round failed", exc_info=True)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
