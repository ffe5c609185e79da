"""The connection pool: idle connections are pinged before reuse, busy ones are not (``core/db.py``).

A connection whose server process died while it sat in the pool (a restart, a cut network) must not
fail the request that draws it; one that was returned a moment ago is trusted, so a busy server pays
no ping round trips. Each case kills the pooled connection's backend with ``pg_terminate_backend``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.core import db as core_db
from tests.conftest import make_settings


@pytest.fixture
async def engine(database_url):
    engine = core_db.create_engine(make_settings(db_pool_size=1, db_max_overflow=1), database_url)
    yield engine
    await engine.dispose()


async def _terminate(database_url: str, pid: int) -> None:
    killer = core_db.create_engine(make_settings(), database_url)
    try:
        async with killer.connect() as conn:
            assert (await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar_one()
            # Wait until the server has really ended it (a condition, not a delay).
            for _ in range(1000):
                gone = (
                    await conn.execute(text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
                ).scalar_one()
                if gone:
                    break
            assert gone
    finally:
        await killer.dispose()


async def test_an_idle_connection_that_died_is_replaced_and_the_request_succeeds(engine, database_url, monkeypatch):
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection counts as idle
    async with engine.connect() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    await _terminate(database_url, pid)
    async with engine.connect() as conn:
        new_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert new_pid != pid


async def test_a_recently_returned_connection_is_not_pinged_and_a_dead_one_is_discarded(
    engine, database_url, monkeypatch
):
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_S", 3600.0)  # nothing counts as idle: no pings
    async with engine.connect() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    await _terminate(database_url, pid)
    with pytest.raises(DBAPIError) as failed:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    assert failed.value.connection_invalidated
    async with engine.connect() as conn:  # the pool threw the dead connection away
        assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
