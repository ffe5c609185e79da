"""The hub's LISTEN connection is killed and kept out for a while: events committed meanwhile reach the
open WebSocket after it reconnects — all of them, once each, in order — because the hub reads the
outbox by position, not from the notifications it missed."""

from __future__ import annotations

import asyncpg
import pytest

from backend.core.pgserver import asyncpg_dsn
from tests.faults.conftest import wait_until
from tests.faults.pgcluster import PrivateCluster
from tests.live import live_server
from tests.realtime.test_live_updates import book, next_message, open_socket
from tests.world import World


async def listeners(admin: asyncpg.Connection, database: str) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'daqing-listener' AND datname = $1",
            database,
        )
    )


async def test_events_committed_while_the_listener_is_down_arrive_after_it_reconnects(
    private_db: str, private_pg: PrivateCluster, tmp_path
):
    database = private_db.rsplit("/", 1)[1]
    world = await World(private_db).build()
    _, child, token = await world.family()
    admin = await asyncpg.connect(asyncpg_dsn(private_pg.url))
    try:
        with live_server(private_db, tmp_path, PUSH_WORKER="false", WS_HEARTBEAT_S="1") as server:
            async with await open_socket(server, token) as ws:
                assert (await next_message(ws))["type"] == "ready"
                first = await book(server, world, child, token, 8)
                assert (await next_message(ws))["subject"]["id"] == first["id"]  # live, before the fault

                # Kill the listener and keep it out: the database takes no new connections (the app's
                # pooled connections, already open, keep serving requests).
                await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'daqing-listener' AND datname = $1",
                    database,
                )
                assert killed == 1
                await wait_until(
                    lambda: "listener: cannot connect" in server.log(), timeout=30, what="the listener to fail"
                )
                missed = [await book(server, world, child, token, hour) for hour in (10, 12, 14)]
                with pytest.raises(TimeoutError):  # nobody is listening: nothing arrives yet
                    await next_message(ws, timeout=1.0)
                assert await listeners(admin, database) == 0

                await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
                caught_up = [await next_message(ws, timeout=30.0) for _ in missed]
                assert [m["subject"]["id"] for m in caught_up] == [b["id"] for b in missed]
                assert [m["id"] for m in caught_up] == sorted(m["id"] for m in caught_up)
                assert "listener: reconnected; catching up" in server.log()
                assert await listeners(admin, database) == 1

                live = await book(server, world, child, token, 16)  # and live delivery works again
                message = await next_message(ws, timeout=10.0)
                assert message["subject"]["id"] == live["id"]  # nothing twice: the next one is the new one
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()
