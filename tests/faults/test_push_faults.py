"""The push service misbehaves: it answers 5xx, hangs, or is not there at all. Deliveries are retried
later with growing back-off, a hanging send is abandoned after PUSH_TIMEOUT_S without holding up the
others, and nothing is lost. (tests/realtime/test_push.py covers 410, 503 with Retry-After and a
worker killed mid-send; this adds the cases without a Retry-After and the timeouts.)"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import asyncpg
import pytest
from aiohttp import web

from backend.core.pgserver import asyncpg_dsn
from tests.faults.conftest import wait_until
from tests.live import free_port, live_server, scratch_database
from tests.realtime.test_live_updates import book
from tests.realtime.test_push import Browser, PushService, Received, subscribe
from tests.world import World

PUSH_TIMEOUT_S = 1.0
RETRY_BASE_S = 0.5


class HangingPushService(PushService):
    """``behaviour[name]`` may be a script with "hang" steps too: such a request is never answered."""

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        script = self.behaviour.get(name)
        if isinstance(script, list) and script and script[0] == "hang":
            script.pop(0)
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.received.append(Received(name, headers, await request.read(), time.monotonic()))
            async with self.arrived:
                self.arrived.notify_all()
            await asyncio.Event().wait()  # never answers: the worker has to give up on its own
        return await super().handle(request)


@pytest.fixture
async def bad_push_service():
    service = HangingPushService()
    app = web.Application()
    app.router.add_post("/push/{name}", service.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", service.port).start()
    try:
        yield service
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner.cleanup(), timeout=5)


@pytest.fixture(scope="module")
def database(server_url):
    with scratch_database(server_url, demo=False) as url:
        yield url


async def pending(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await conn.fetch(
            "SELECT s.endpoint, d.attempts, d.last_error FROM push_deliveries d"
            " JOIN push_subscriptions s ON s.id = d.subscription_id"
        )
    finally:
        await conn.close()


def push_env(service: PushService, *extra_ports: int) -> dict[str, str]:
    allowed = ",".join(f"127.0.0.1:{port}" for port in (service.port, *extra_ports))
    return {
        "PUSH_ENDPOINT_ALLOWLIST": allowed,
        "PUSH_POLL_INTERVAL_S": "0.2",
        "PUSH_LEASE_S": "30",
        "PUSH_TIMEOUT_S": str(PUSH_TIMEOUT_S),
        "PUSH_RETRY_BASE_S": str(RETRY_BASE_S),
    }


async def test_5xx_without_retry_after_is_retried_with_growing_backoff(database, bad_push_service, tmp_path):
    service = bad_push_service
    service.behaviour = {"err": [500, 502, 500], "ok": 201}
    with live_server(database, tmp_path, **push_env(service)) as server:
        world = await World(database).build()
        _, child, token = await world.family()
        browser = Browser()
        await subscribe(server, token, service.endpoint("err"), browser)
        await subscribe(server, token, service.endpoint("ok"), Browser())
        booking = await book(server, world, child, token, 9)
        attempts = await service.wait_for("err", count=4, timeout=60)
        await service.wait_for("ok", timeout=60)
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
        # PUSH_RETRY_BASE_S, then twice, then four times that (±10 % jitter).
        for n, gap in enumerate(gaps):
            assert gap >= RETRY_BASE_S * 2**n * 0.9, gaps
        assert gaps[2] > gaps[0] * 2, gaps
        assert browser.decrypt(attempts[-1].body)["url"] == f"/bookings/{booking['id']}"
        await wait_until(lambda: _no_pending(database), timeout=30, what="the deliveries to finish")


async def _no_pending(url: str) -> bool:
    return not await pending(url)


async def test_a_hanging_or_missing_push_service_is_abandoned_in_time_and_loses_nothing(
    database, bad_push_service, tmp_path
):
    service = bad_push_service
    closed_port = free_port()  # nothing listens here: connection refused
    service.behaviour = {"hang": ["hang", "hang"], "ok": 201}
    with live_server(database, tmp_path, **push_env(service, closed_port)) as server:
        world = await World(database).build()
        _, child, token = await world.family()
        browsers = {name: Browser() for name in ("hang", "ok")}
        for name, browser in browsers.items():
            await subscribe(server, token, service.endpoint(name), browser)
        await subscribe(server, token, f"http://127.0.0.1:{closed_port}/push/gone-away", Browser())
        booking = await book(server, world, child, token, 9)

        hang = await service.wait_for("hang", count=3, timeout=60)
        (ok,) = await service.wait_for("ok", timeout=60)
        # Each hanging send is abandoned after PUSH_TIMEOUT_S (bounded), then retried after a back-off.
        for earlier, later in itertools.pairwise(hang):
            gap = later.at - earlier.at
            assert PUSH_TIMEOUT_S <= gap < PUSH_TIMEOUT_S + 2 + 4 * RETRY_BASE_S + 5, gap
        # It does not hold up the others: "ok" was sent alongside the first hanging send.
        assert abs(ok.at - hang[0].at) < PUSH_TIMEOUT_S
        for name, request in (("hang", hang[-1]), ("ok", ok)):
            assert browsers[name].decrypt(request.body)["url"] == f"/bookings/{booking['id']}"

        # The push service that is not there at all: its delivery waits and is retried, never dropped.
        async def only_the_missing_one_waits() -> bool:
            rows = await pending(database)
            return len(rows) == 1 and rows[0]["attempts"] >= 2

        await wait_until(only_the_missing_one_waits, timeout=60, what="the other deliveries to finish")
        (row,) = await pending(database)
        assert row["endpoint"].endswith(f":{closed_port}/push/gone-away")
        assert row["last_error"]  # the connection error, kept for the operator
        assert server.process.poll() is None
