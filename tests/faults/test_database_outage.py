"""PostgreSQL stops under load and comes back: the API answers 503 JSON fast, writes nothing by halves,
recovers within seconds of the restart, and never holds more connections than its pool allows.

A real uvicorn subprocess runs against a private PostgreSQL (``PrivateCluster``) that the test stops
with ``pg_ctl stop -m fast`` while client tasks keep booking, searching and listing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy import insert

from backend.bookings.models import Slot
from backend.core.pgserver import asyncpg_dsn
from tests.faults.conftest import wait_until
from tests.faults.pgcluster import PrivateCluster
from tests.live import live_server
from tests.world import TOMORROW, World, execute

POOL_SIZE, MAX_OVERFLOW = 3, 2
CLIENTS = 4
DAYS = 10
HOURS = range(7, 19)
RECOVERY_S = 10.0
FAIL_FAST_S = 6.0  # DB_POOL_TIMEOUT_S (5 s) is the longest any request may wait for a connection


@dataclass
class Outcome:
    kind: str
    started: float
    finished: float
    status: int | None  # None: no HTTP answer at all
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Family:
    token: str
    child: uuid.UUID
    booked: dict[str, str] = field(default_factory=dict)  # idempotency key -> booking id (client saw 2xx)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> body (client saw an error)


class Load:
    def __init__(self, server: Any, world: World, families: list[Family]) -> None:
        self.server, self.world, self.families = server, world, families
        self.outcomes: list[Outcome] = []
        self.stop = asyncio.Event()

    async def _call(self, http: httpx.AsyncClient, kind: str, method: str, url: str, **kw: Any) -> Outcome:
        started = time.monotonic()
        try:
            r = await http.request(method, url, **kw)
            outcome = Outcome(kind, started, time.monotonic(), r.status_code, r.text, dict(r.headers))
        except httpx.TransportError as exc:
            outcome = Outcome(kind, started, time.monotonic(), None, repr(exc))
        self.outcomes.append(outcome)
        return outcome

    async def booker(self, family: Family) -> None:
        """Books the child into one slot after another, each with its own Idempotency-Key."""
        wanted = [(TOMORROW + dt.timedelta(days=d), h) for d in range(DAYS) for h in HOURS]
        headers = {"Authorization": f"Bearer {family.token}"}
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=60) as http:
            for day, hour in wanted:
                if self.stop.is_set():
                    return
                key = uuid.uuid4().hex
                body = {
                    "child_id": str(family.child),
                    "institution_id": str(self.world.inst),
                    "mode": "hourly",
                    "day": day.isoformat(),
                    "start": f"{hour:02d}:00",
                    "end": f"{hour + 1:02d}:00",
                }
                outcome = await self._call(
                    http, "book", "POST", "/api/bookings", json=body, headers={**headers, "Idempotency-Key": key}
                )
                if outcome.ok:
                    family.booked[key] = json.loads(outcome.body)["id"]
                else:
                    family.failed[key] = body
                await self._call(http, "mine", "GET", "/api/bookings", headers=headers)
        raise AssertionError("a client ran out of slots before the test ended: raise DAYS")

    async def searcher(self) -> None:
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=60) as http:
            while not self.stop.is_set():
                await self._call(
                    http,
                    "search",
                    "GET",
                    "/api/institutions/nearby",
                    params={"lat": 30.0, "lng": 30.0, "radius_m": 5000},
                )
                await self._call(
                    http,
                    "slots",
                    "GET",
                    f"/api/institutions/{self.world.inst}/slots",
                    params={"day": TOMORROW.isoformat()},
                )

    def successes(self, kind: str, after: float = 0.0) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind and o.ok and o.started >= after)

    def failures(self, after: float = 0.0) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok and o.started >= after]


class BackendCounter:
    """Samples how many connections the app holds (application_name of its pool) while the server is up."""

    def __init__(self, admin_url: str) -> None:
        self.dsn = asyncpg_dsn(admin_url)
        self.peak = 0
        self.samples = 0
        self.stop = asyncio.Event()

    async def run(self) -> None:
        conn: asyncpg.Connection | None = None
        while not self.stop.is_set():
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(
                        self.dsn, timeout=2, server_settings={"application_name": "faults-probe"}
                    )
                count = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'daqing-childcare'", timeout=2
                )
                self.peak = max(self.peak, int(count))
                self.samples += 1
            except Exception:  # the server is down or going down: connect again when it is back
                if conn is not None:
                    conn.terminate()
                conn = None
            await asyncio.sleep(0.02)  # sampling interval
        if conn is not None and not conn.is_closed():
            await conn.close()


@pytest.fixture
async def outage_setup(private_db: str, tmp_path):
    world = await World(private_db).build()
    more_days = [
        {
            "institution_id": world.inst,
            "day": TOMORROW + dt.timedelta(days=d),
            "band": "toddler",
            "start_min": h * 60,
            "end_min": h * 60 + 60,
            "capacity": 50,
        }
        for d in range(1, DAYS)
        for h in HOURS
    ]
    await execute(private_db, insert(Slot).values(more_days))
    families = []
    for _ in range(CLIENTS):
        _, child, token = await world.family()
        families.append(Family(token, child))
    env = {
        "DB_POOL_SIZE": str(POOL_SIZE),
        "DB_MAX_OVERFLOW": str(MAX_OVERFLOW),
        "LOG_LEVEL": "WARNING",
    }
    with live_server(private_db, tmp_path, **env) as server:
        yield server, world, families


def check_error_shape(outcome: Outcome) -> None:
    """A failure during the outage is a 503 in the project's JSON error shape, retryable, without internals."""
    assert outcome.status == 503, (outcome.kind, outcome.status, outcome.body[:500])
    assert outcome.headers.get("content-type", "").startswith("application/json"), outcome.headers
    assert int(outcome.headers["retry-after"]) >= 1
    body = json.loads(outcome.body)
    assert body["status_code"] == 503
    assert body["code"] == "database_unavailable"
    assert body["detail_zh"] and body["detail"]
    assert body["extra"]["retryable"] is True
    for leak in ("Traceback", "<html", "asyncpg", "sqlalchemy", 'File "', "127.0.0.1"):
        assert leak not in outcome.body, outcome.body


async def db_state(url: str, families: list[Family]) -> tuple[set[str], list[Any]]:
    """(ids of the families' bookings, slots whose counter differs from the live bookings covering them)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        ids = {
            str(r["id"])
            for r in await conn.fetch(
                "SELECT id FROM bookings WHERE child_id = ANY($1::uuid[])", [f.child for f in families]
            )
        }
        drift = await conn.fetch(
            """
            SELECT s.id, s.booked, count(b.id) AS live
            FROM slots s LEFT JOIN bookings b
              ON b.institution_id = s.institution_id AND b.day = s.day AND b.band = s.band
             AND b.status <> 'cancelled' AND b.start_min < s.end_min AND b.end_min > s.start_min
            GROUP BY s.id, s.booked HAVING s.booked <> count(b.id)
            """
        )
        return ids, list(drift)
    finally:
        await conn.close()


async def test_postgres_stopped_and_restarted_under_load(outage_setup, private_pg: PrivateCluster):
    server, world, families = outage_setup
    load = Load(server, world, families)
    counter = BackendCounter(private_pg.url)
    tasks = [asyncio.create_task(load.booker(f)) for f in families]
    tasks += [asyncio.create_task(load.searcher()) for _ in range(2)]
    sampler = asyncio.create_task(counter.run())
    try:
        # Warm up: every client books something.
        await wait_until(
            lambda: all(len(f.booked) >= 2 for f in families), timeout=60, what="bookings before the outage"
        )

        stopped_at = time.monotonic()
        await asyncio.to_thread(private_pg.stop, "fast")
        down_at = time.monotonic()
        # The outage lasts until every kind of request has failed a few times against the stopped server.
        await wait_until(
            lambda: all(
                sum(1 for o in load.failures(after=down_at) if o.kind == kind) >= 3 for kind in ("book", "search")
            ),
            timeout=60,
            what="requests failing during the outage",
        )
        await wait_until(lambda: server.process.poll() is None, timeout=1, what="the server to stay up")
        await asyncio.to_thread(private_pg.start)
        restarted_at = time.monotonic()

        recovery = await wait_until(
            lambda: (
                load.successes("book", after=restarted_at) >= 1 and load.successes("search", after=restarted_at) >= 1
            ),
            timeout=60,
            what="recovery after the restart",
        )
        # Keep going a little: every client books again after the restart.
        baseline = {id(f): len(f.booked) for f in families}
        await wait_until(
            lambda: all(len(f.booked) >= baseline[id(f)] + 2 for f in families), timeout=60, what="bookings after"
        )
    finally:
        load.stop.set()
        counter.stop.set()
        done = await asyncio.gather(*tasks, sampler, return_exceptions=True)
    for result in done:
        if isinstance(result, BaseException):
            raise result

    during = [o for o in load.outcomes if not o.ok]
    assert during, "nothing failed: the outage was not observed"
    for outcome in during:
        check_error_shape(outcome)
    slowest = max(o.finished - o.started for o in during)
    assert slowest < FAIL_FAST_S, f"a failing request took {slowest:.1f} s"
    assert recovery <= RECOVERY_S, f"recovered {recovery:.1f} s after the restart"
    assert stopped_at < down_at

    # Nothing written by halves: the slot counters equal the live bookings covering them.
    ids, drift = await db_state(server.database_url, families)
    assert drift == []
    confirmed = {b for f in families for b in f.booked.values()}
    assert confirmed <= ids, "a booking the client saw succeed is missing"
    # A failed request whose commit reached the server before the connection died is the one ambiguous
    # case: retrying with the same Idempotency-Key settles it (replayed if it was saved, made now if not).
    ambiguous = ids - confirmed
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        for family in families:
            for key, body in family.failed.items():
                r = await http.post(
                    "/api/bookings",
                    json=body,
                    headers={"Authorization": f"Bearer {family.token}", "Idempotency-Key": key},
                )
                assert r.status_code == 201, r.text
                if r.headers.get("idempotent-replayed") == "true":
                    assert r.json()["id"] in ambiguous
                else:
                    assert r.json()["id"] not in ids
                family.booked[key] = r.json()["id"]
    ids, drift = await db_state(server.database_url, families)
    assert drift == []
    assert ids == {b for f in families for b in f.booked.values()}
    assert len(ids) == sum(len(f.booked) for f in families)

    # The pool never held more connections than DB_POOL_SIZE + DB_MAX_OVERFLOW.
    assert counter.samples > 20
    assert 1 <= counter.peak <= POOL_SIZE + MAX_OVERFLOW, counter.peak
    print(
        f"\noutage: {len(during)} failures (slowest {slowest:.2f} s), recovery {recovery:.2f} s after restart,"
        f" {len(ambiguous)} ambiguous, peak backends {counter.peak}, {len(load.outcomes)} requests"
    )


@pytest.fixture
def frozen_setup(private_db: str, tmp_path):
    world = asyncio.run(World(private_db).build())
    _, child, token = asyncio.run(world.family())
    family = Family(token, child)
    env = {"DB_POOL_TIMEOUT_S": "2", "DB_STATEMENT_TIMEOUT_MS": "2000", "PUSH_WORKER": "false"}
    with live_server(private_db, tmp_path, **env) as server:
        yield server, world, family


def postgres_processes(cluster: PrivateCluster) -> list[psutil.Process]:
    postmaster = psutil.Process(int((cluster.pgdata / "postmaster.pid").read_text().split()[0]))
    return [postmaster, *postmaster.children(recursive=True)]


def test_a_frozen_database_times_out_instead_of_hanging(frozen_setup, private_pg: PrivateCluster):
    """PostgreSQL stops answering without closing anything (SIGSTOP: a hung host, a black-holed
    network). Connecting gives up after DB_POOL_TIMEOUT_S, a statement after DB_STATEMENT_TIMEOUT_MS
    + 5 s: every request answers 503 within seconds, and service resumes when the server does."""
    server, world, family = frozen_setup
    headers = {"Authorization": f"Bearer {family.token}"}

    def booking(hour: int) -> dict[str, str]:
        return {
            "child_id": str(family.child),
            "institution_id": str(world.inst),
            "mode": "hourly",
            "day": TOMORROW.isoformat(),
            "start": f"{hour:02d}:00",
            "end": f"{hour + 1:02d}:00",
        }

    async def run() -> None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            # Several pooled connections are open (and will be silent once the server freezes).
            warm = await asyncio.gather(*(http.get("/api/bookings", headers=headers) for _ in range(4)))
            assert all(r.status_code == 200 for r in warm)
            frozen = postgres_processes(private_pg)
            for process in frozen:
                process.suspend()
            try:
                started = time.monotonic()
                answers = await asyncio.gather(
                    http.post("/api/bookings", json=booking(9), headers={**headers, "Idempotency-Key": "frozen-9"}),
                    http.get("/api/bookings", headers=headers),
                    http.get("/api/institutions/nearby", params={"lat": 30.0, "lng": 30.0}),
                    http.get(f"/api/institutions/{world.inst}/slots", params={"day": TOMORROW.isoformat()}),
                )
                took = time.monotonic() - started
            finally:
                for process in frozen:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        process.resume()
            for r in answers:
                assert r.status_code == 503, r.text
                assert r.json()["code"] in ("database_unavailable", "database_busy")
                assert r.headers["retry-after"]
            assert took < 15, f"requests waited {took:.1f} s on a frozen database"

            resumed = time.monotonic()

            async def booked() -> bool:
                r = await http.post(
                    "/api/bookings", json=booking(9), headers={**headers, "Idempotency-Key": "frozen-9"}
                )
                return r.status_code == 201

            await wait_until(booked, timeout=30, what="service after the database resumed", interval=0.2)
            assert time.monotonic() - resumed < RECOVERY_S

    asyncio.run(run())
