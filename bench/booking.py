"""Benchmark: 200 concurrent clients competing for 20 places over 10 slots.

    .venv/bin/python bench/booking.py [--clients 200] [--rounds 20]

Each round publishes 10 one-hour slots with 2 places each (20 places) on a new day, then 200 parents
(one child each) all at once try to book a randomly chosen slot through `POST /api/bookings` on a
server started as `make run` serves it (one worker). Every answer is a decision: 201 booked or
409 full. Then the same clients and slots against the baseline: the decision alone through asyncpg
(the conditional UPDATE … RETURNING and the INSERT of the booking, no HTTP). Prints decisions per second
(and project/bare), latency p50/p99, the outcome counts and the overbooking
count — slots whose bookings exceed their places, or whose counter differs from the rows (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import time
import uuid
from collections import Counter

import aiohttp
import asyncpg
from common import (
    ROOT,
    SERVED_PIDS,
    add_smoke,
    fresh_database,
    parse_args,
    percentile,
    profile_summary,
    profiled,
    served,
)

from backend.core import crypto, pgserver
from backend.core.clock import local_instant, local_today
from backend.core.security import new_session_token, token_digest
from backend.families.schemas import CHILD_DATA_POLICY_VERSION
from backend.institutions.rules import uscc_check_char

DB_NAME = "bench_booking"
SLOTS = 10
PLACES_PER_SLOT = 2


async def setup(url: str, clients: int) -> tuple[uuid.UUID, list[tuple[uuid.UUID, str, uuid.UUID]]]:
    """An institution offering hourly care, and ``clients`` families: (child, session token, account)."""
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        inst = uuid.uuid4()
        first17 = "91230602BENCH0001"
        await conn.execute(
            "INSERT INTO institutions (id, name, legal_form, registration_no, unit_code, address, lat, lng, phone,"
            " ownership, opening_hours, filing_status) VALUES ($1, '基准预约机构', 'for_profit', $2, 230602, '测试', 46.6,"
            " 125.1,"
            ' \'0459-1\', \'private\', \'[{"days": [1,2,3,4,5,6,7], "opens": "07:00", "closes": "19:00"}]\', \'filed\')',
            inst,
            first17 + uscc_check_char(first17),
        )
        await conn.execute("INSERT INTO institution_modes VALUES ($1, 'hourly', 4000, 'hour')", inst)
        birth = local_today() - dt.timedelta(days=500)
        keys = crypto.current()
        families = []
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        for n in range(clients):
            account, child, token = uuid.uuid4(), uuid.uuid4(), new_session_token()
            await conn.execute("INSERT INTO accounts (id, phone) VALUES ($1, $2)", account, f"139{n:08d}")
            await conn.execute("INSERT INTO role_grants (account_id, role) VALUES ($1, 'parent')", account)
            await conn.execute(
                "INSERT INTO auth_sessions (account_id, token_hash, expires_at) VALUES ($1, $2, $3)",
                account,
                token_digest(token),
                expires,
            )
            # Children's data is encrypted (the served app has the same keys: both read the environment)
            # and stored only with a guardian's consent, checked at commit.
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO children (id, name, birth_date) VALUES ($1, $2, $3)",
                    child,
                    keys.encrypt("children.name", "基准宝宝".encode()),
                    keys.encrypt("children.birth_date", birth.isoformat().encode()),
                )
                await conn.execute(
                    "INSERT INTO guardianships (child_id, account_id, relation) VALUES ($1, $2, 'mother')",
                    child,
                    account,
                )
                await conn.execute(
                    "INSERT INTO guardian_consents (account_id, child_id, policy_version) VALUES ($1, $2, $3)",
                    account,
                    child,
                    CHILD_DATA_POLICY_VERSION,
                )
            families.append((child, token, account))
        return inst, families
    finally:
        await conn.close()


async def publish(url: str, inst: uuid.UUID, day: dt.date) -> None:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        await conn.executemany(
            "INSERT INTO slots (institution_id, day, band, start_min, end_min, capacity) VALUES ($1, $2, 'toddler',"
            " $3, $4, $5)",
            [(inst, day, (8 + h) * 60, (9 + h) * 60, PLACES_PER_SLOT) for h in range(SLOTS)],
        )
    finally:
        await conn.close()


async def bench_bare(
    url: str, inst: uuid.UUID, families: list[tuple[uuid.UUID, str, uuid.UUID]], rounds: int, first_day: dt.date
) -> tuple[list[float], Counter[str], float]:
    """The baseline: the decision alone, through asyncpg with no HTTP and no framework. Each client, in
    one transaction, takes a place with the same conditional ``UPDATE … RETURNING`` and, if it got one,
    INSERTs its booking; a pool as large as the server's (60 connections, all kept open). Same clients, same slots."""
    pool = await asyncpg.create_pool(pgserver.asyncpg_dsn(url), min_size=60, max_size=60)
    rng = random.Random(3)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    busy = 0.0
    try:
        for round_ in range(rounds):
            day = first_day + dt.timedelta(days=round_)
            await publish(url, inst, day)
            slot_ids = {
                r["start_min"]: r["id"]
                for r in await pool.fetch(
                    "SELECT id, start_min FROM slots WHERE institution_id = $1 AND day = $2", inst, day
                )
            }
            starts = [8 + rng.randrange(SLOTS) for _ in families]

            async def book(
                child: uuid.UUID, account: uuid.UUID, hour: int, day: dt.date = day, slot_ids: dict = slot_ids
            ) -> None:
                t0 = time.perf_counter()
                async with pool.acquire() as conn, conn.transaction():
                    taken = await conn.fetchval(
                        "UPDATE slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity RETURNING id",
                        slot_ids[hour * 60],
                    )
                    if taken is not None:
                        await conn.execute(
                            "INSERT INTO bookings (id, child_id, booked_by, institution_id, mode, day, band, start_min,"
                            " end_min, starts_at, ends_at, price_fen) VALUES ($1, $2, $3, $4, 'hourly', $5, 'toddler',"
                            " $6, $7, $8, $9, 4000)",
                            uuid.uuid4(), child, account, inst, day, hour * 60, (hour + 1) * 60,
                            local_instant(day, hour * 60), local_instant(day, (hour + 1) * 60),
                        )  # fmt: skip
                outcomes["booked" if taken is not None else "full"] += 1
                latencies.append(time.perf_counter() - t0)

            t_round = time.perf_counter()
            await asyncio.gather(*(book(c, a, h) for (c, _, a), h in zip(families, starts, strict=True)))
            busy += time.perf_counter() - t_round
    finally:
        await pool.close()
    return latencies, outcomes, busy


async def overbooked(url: str, inst: uuid.UUID) -> int:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        return int(
            await conn.fetchval(
                """
                SELECT count(*) FROM slots s
                WHERE s.institution_id = $1 AND (s.booked > s.capacity OR s.booked <> (
                    SELECT count(*) FROM bookings b
                    WHERE b.institution_id = s.institution_id AND b.day = s.day AND b.status = 'booked'
                      AND b.start_min <= s.start_min AND s.end_min <= b.end_min))
                """,
                inst,
            )
        )
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy during the HTTP rounds (var/bench-profile/)",
    )
    add_smoke(parser, clients=10, rounds=1)
    args = parse_args(parser)
    profile = ROOT / "var" / "bench-profile" / "booking-project.txt" if args.profile else None

    url = await fresh_database(DB_NAME)
    inst, families = await setup(url, args.clients)
    rng = random.Random(3)
    latencies: list[float] = []
    outcomes: Counter[int] = Counter()
    busy = 0.0
    # 60 pooled connections, none of them overflow: overflow connections are closed when a burst ends and
    # opened (and their statements prepared) again in the next, which the bare pool never pays.
    async with served(url, DB_POOL_SIZE="60", DB_MAX_OVERFLOW="0") as base:
        connector = aiohttp.TCPConnector(limit=args.clients)
        async with aiohttp.ClientSession(connector=connector) as http, profiled(SERVED_PIDS[base], profile):
            for round_ in range(args.rounds):
                day = local_today() + dt.timedelta(days=1 + round_)
                await publish(url, inst, day)
                starts = [8 + rng.randrange(SLOTS) for _ in families]

                async def book(child: uuid.UUID, token: str, hour: int, day: dt.date = day) -> None:
                    body = {
                        "child_id": str(child),
                        "institution_id": str(inst),
                        "mode": "hourly",
                        "day": day.isoformat(),
                        "start": f"{hour:02d}:00",
                        "end": f"{hour + 1:02d}:00",
                    }
                    t0 = time.perf_counter()
                    async with http.post(
                        base + "/api/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
                    ) as r:
                        await r.read()
                        outcomes[r.status] += 1
                    latencies.append(time.perf_counter() - t0)

                t_round = time.perf_counter()
                await asyncio.gather(*(book(c, t, h) for (c, t, _), h in zip(families, starts, strict=True)))
                busy += time.perf_counter() - t_round

    bare_latencies, bare_outcomes, bare_busy = await bench_bare(
        url, inst, families, args.rounds, local_today() + dt.timedelta(days=1 + args.rounds)
    )

    decisions = len(latencies)
    places = args.rounds * SLOTS * PLACES_PER_SLOT
    print(f"\n{args.clients} concurrent clients, {SLOTS} slots x {PLACES_PER_SLOT} places, {args.rounds} rounds")
    print(f"decisions:            {decisions:,} ({dict(sorted(outcomes.items()))})")
    print(f"places:               {places:,}; booked: {outcomes.get(201, 0):,}")
    print(f"decisions per second: {decisions / busy:,.0f}")
    print(
        f"latency p50 / p99:    {percentile(latencies, 50) * 1000:.1f} ms / {percentile(latencies, 99) * 1000:.1f} ms"
    )
    bare_rate = len(bare_latencies) / bare_busy
    print(f"bare (asyncpg: conditional UPDATE + INSERT, no HTTP): {dict(sorted(bare_outcomes.items()))}")
    print(
        f"bare decisions/s:     {bare_rate:,.0f}; p50 / p99 {percentile(bare_latencies, 50) * 1000:.1f} ms / "
        f"{percentile(bare_latencies, 99) * 1000:.1f} ms"
    )
    print(f"project/bare:         {decisions / busy / bare_rate:.2f}x decisions/s (aim >= 0.5x)")
    print(f"overbooking count:    {await overbooked(url, inst)} (must be 0)")
    if profile is not None:
        print("\n" + "\n".join(profile_summary(profile, top=20)))


if __name__ == "__main__":
    asyncio.run(main())
