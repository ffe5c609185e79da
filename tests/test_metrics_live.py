"""/metrics on a real server with two worker processes (issue 19 §4): every worker's requests are in
every scrape, whichever worker answers it (prometheus-client's multiprocess mode, set up by
`python -m backend serve`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.live import live_server, scratch_database
from tests.world import World

ORIGIN = "http://127.0.0.1:8000"

ROUTE = "/api/units"
REQUESTS = 60


def _value(body: str, name: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(body) for s in family.samples if s.name == name)


def _wait_for_sockets(base_url: str, expected: int) -> None:
    """Scrape until the open sockets of both workers add up to ``expected`` (they update as sockets
    open and close; the scrape reads every worker's file)."""
    deadline = time.monotonic() + 20
    while (seen := _value(httpx.get(base_url + "/metrics").text, "dq_websockets_open")) != expected:
        assert time.monotonic() < deadline, f"dq_websockets_open stayed at {seen}, expected {expected}"
        time.sleep(0.1)


async def _sockets(base_url: str, token: str, n: int) -> None:
    """Open ``n`` sockets (new connections: spread over the workers), check the gauge, close them."""
    opened = []
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(n):
            r = await http.post("/api/realtime/ticket", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            url = base_url.replace("http://", "ws://") + f"/ws?ticket={r.json()['ticket']}"
            opened.append(await connect(url, origin=ORIGIN, open_timeout=20))
    await asyncio.to_thread(_wait_for_sockets, base_url, n)
    for ws in opened:
        await ws.close()
    await asyncio.to_thread(_wait_for_sockets, base_url, 0)


def _count(body: str, route: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "dq_http_requests_total" and s.labels.get("route") == route
    )


def test_two_workers_are_counted_together(server_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path, startup_s=120, WORKERS="2", METRICS_TOKEN="t" * 40) as server,
    ):
        for _ in range(REQUESTS):  # a new connection each time: the kernel spreads them over both workers
            assert httpx.get(server.base_url + ROUTE, headers={"Connection": "close"}).status_code == 200
        port = server.base_url.rsplit(":", 1)[1]
        metrics_dir = next(tmp_path.glob("var-*")) / "metrics" / port
        writers = {p.stem.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
        assert len(writers) == 2, f"expected both workers to have counted requests, files: {writers}"
        for _ in range(6):  # several scrapes, answered by either worker: each sees all requests
            page = httpx.get(server.base_url + "/metrics", headers={"Connection": "close"})
            assert page.status_code == 200  # from loopback: allowed by default
            assert _count(page.text, ROUTE) == REQUESTS
        assert "dq_db_pool_in_use" in page.text and "dq_websockets_open" in page.text
        # The token works as well, and nothing is open to a wrong one (loopback aside, which is allowed).
        assert (
            httpx.get(server.base_url + "/metrics", headers={"Authorization": "Bearer " + "t" * 40}).status_code == 200
        )
        # Open WebSockets, summed over the workers: up as they open, down as they close.
        world = asyncio.run(World(url).build())
        asyncio.run(_sockets(server.base_url, world.staff, 4))
