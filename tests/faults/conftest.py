"""Fault tests: a private PostgreSQL (stoppable), and polling helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from backend.core import migrate, pgserver
from tests.faults.pgcluster import PrivateCluster


@pytest.fixture(scope="package")
def private_pg() -> Iterator[PrivateCluster]:
    """A PostgreSQL of this package's own, on its own port: tests here stop and start it."""
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def private_db(private_pg: PrivateCluster) -> Iterator[str]:
    """A fresh database on the private server, built by the migrations."""
    name = f"dq_faults_{time.monotonic_ns() % 10**9}"
    asyncio.run(pgserver.create_database(private_pg.url, name, exist_ok=False))
    url = pgserver.with_database(private_pg.url, name)
    migrate.upgrade(url)
    yield url
    if not private_pg.running():
        private_pg.start()
    asyncio.run(pgserver.drop_database(private_pg.url, name))


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.05
) -> float:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds. Returns the time it took."""
    started = time.monotonic()
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)  # polling interval, not synchronisation
