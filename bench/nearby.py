"""Benchmark: nearby search, raw SQL through asyncpg versus the HTTP endpoint, in one run.

    .venv/bin/python bench/nearby.py [--institutions 100000] [--requests 3000] [--seconds 15]

1. Creates the database ``bench_nearby`` on the embedded server (or on DATABASE_URL's server),
   migrates it and loads N institutions (default 100,000) spread around Daqing's ten units in
   proportion to population, each with 1-3 classes and 1-3 service modes (COPY, then ANALYZE).
2. Raw: the exact statement the endpoint runs (compiled by SQLAlchemy for asyncpg), executed with
   asyncpg directly at concurrency 1 and 32.
3. Bare: the same statement and page assembly in a bare ASGI app (``bench/bare/nearby.py``: no
   framework, no ORM session) on uvicorn with uvloop and httptools, one worker, the same pool size:
   the baseline the endpoint is held to (project/bare ratios).
4. HTTP: starts the server as ``make run`` does (``python -m backend serve``, one worker) and
   requests ``GET /api/institutions/nearby`` with aiohttp at concurrency 1 and 32, for the same
   query points (a parent within 3 km of a unit centre, radius 5 km, 20 results).
5. Prints p50/p99 latency, requests/s, the servers' CPU time per request (user + system, which a loaded
   machine does not inflate as it does latency), the project/bare and HTTP/raw ratios. ``--profile``
   samples both servers with py-spy during the concurrency-32 rows and prints the top entries;
   BENCHMARKS.md records the output.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import random
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import psutil
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
    served_bare,
)
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from backend.core import pgserver
from backend.institutions import queries
from backend.institutions.rules import CLASS_RULES, MODE_PRICE_UNITS, ClassType, uscc_check_char

DB_NAME = "bench_nearby"
UNITS = {  # code: (lat, lng, population) — approximate, as in the foundation migration
    230602: (46.63, 125.11, 520_000),
    230604: (46.65, 124.87, 500_000),
    230603: (46.56, 125.14, 380_000),
    230605: (46.40, 124.89, 165_000),
    230606: (46.04, 124.82, 190_000),
    230671: (46.58, 125.20, 140_000),
    230621: (45.70, 125.27, 280_000),
    230622: (45.52, 125.08, 290_000),
    230623: (47.19, 124.86, 160_000),
    230624: (46.87, 124.44, 155_000),
}


def jitter(rng: random.Random, lat: float, lng: float, sigma_km: float) -> tuple[float, float]:
    dlat = rng.gauss(0, sigma_km) / 111.32
    dlng = rng.gauss(0, sigma_km) / (111.32 * math.cos(math.radians(lat)))
    return lat + dlat, lng + dlng


def copy_rows(n: int, seed: int = 42) -> tuple[bytes, bytes, bytes]:
    rng = random.Random(seed)
    codes = list(UNITS)
    weights = [UNITS[c][2] for c in codes]
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    inst, cls, modes = io.StringIO(), io.StringIO(), io.StringIO()
    types = list(ClassType)
    for i in range(n):
        unit = rng.choices(codes, weights)[0]
        lat, lng = jitter(rng, UNITS[unit][0], UNITS[unit][1], 6.0)
        first17 = "91" + str(unit) + "".join(rng.choice(chars) for _ in range(9))
        iid = uuid.UUID(int=rng.getrandbits(128), version=4)
        inclusive = "t" if rng.random() < 0.3 else "f"
        inst.write(
            f"{iid}\t基准机构{i}\tfor_profit\t{first17}{uscc_check_char(first17)}\tfiled\t{unit}\t"
            f"大庆市测试路{i}号\t{lat:.6f}\t{lng:.6f}\t0459-1234567\tprivate\t{inclusive}\n"
        )
        for k, t in enumerate(rng.sample(types, rng.randint(1, 3))):
            rule = CLASS_RULES[t]
            cap = rng.randint(5, rule.max_children)
            carers = math.ceil(cap / rule.children_per_carer)
            cls.write(
                f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\t{iid}\t班{k}\t{t}\t{cap}\t{carers}\t"
                f"{rng.randint(0, cap)}\n"
            )
        for mode in rng.sample(list(MODE_PRICE_UNITS), rng.randint(1, 3)):
            unit_name = sorted(MODE_PRICE_UNITS[mode])[0]
            modes.write(f"{iid}\t{mode}\t{rng.randint(1000, 400000)}\t{unit_name}\n")
    return inst.getvalue().encode(), cls.getvalue().encode(), modes.getvalue().encode()


async def load(url: str, n: int) -> None:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        inst, cls, modes = copy_rows(n)
        t0 = time.perf_counter()
        await conn.copy_to_table(
            "institutions",
            source=io.BytesIO(inst),
            columns=[
                "id",
                "name",
                "legal_form",
                "registration_no",
                "filing_status",
                "unit_code",
                "address",
                "lat",
                "lng",
                "phone",
                "ownership",
                "is_inclusive",
            ],
        )
        await conn.copy_to_table(
            "classes",
            source=io.BytesIO(cls),
            columns=["id", "institution_id", "name", "class_type", "capacity", "carers", "enrolled_count"],
        )
        await conn.copy_to_table(
            "institution_modes", source=io.BytesIO(modes), columns=["institution_id", "mode", "price_fen", "price_unit"]
        )
        await conn.execute("VACUUM ANALYZE institutions")
        await conn.execute("VACUUM ANALYZE classes")
        await conn.execute("VACUUM ANALYZE institution_modes")
        print(f"loaded {n:,} institutions in {time.perf_counter() - t0:.1f}s")
    finally:
        await conn.close()


def query_points(count: int, seed: int = 7) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    codes = list(UNITS)
    weights = [UNITS[c][2] for c in codes]
    out = []
    for _ in range(count):
        unit = rng.choices(codes, weights)[0]
        out.append(jitter(rng, UNITS[unit][0], UNITS[unit][1], 3.0))
    return out


def compiled_sql() -> tuple[str, list[str], dict[str, object]]:
    """The endpoint's statement as asyncpg receives it: SQL text, parameter order, default values."""
    stmt, params = queries.nearby_statement(queries.NearbyQuery(lat=0.0, lng=0.0, radius_m=5000, limit=20))
    compiled = stmt.compile(dialect=asyncpg_dialect())
    # The compiled statement's own parameters (bound literals included, e.g. a time zone), then the
    # query's: passing only the query's missed any literal the statement binds.
    return str(compiled), list(compiled.positiontup or []), {**compiled.params, **params}


async def drive(concurrency: int, points: list[tuple[float, float]], seconds: float, call) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker() -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            lat, lng = points[counter % len(points)]
            counter += 1
            t0 = time.perf_counter()
            await call(lat, lng)
            latencies.append(time.perf_counter() - t0)

    t_start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t_start
    return {
        "n": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "rps": len(latencies) / elapsed,
    }


async def bench_raw(url: str, points: list[tuple[float, float]], seconds: float) -> dict[int, dict[str, float]]:
    sql, names, defaults = compiled_sql()
    pool = await asyncpg.create_pool(pgserver.asyncpg_dsn(url), min_size=32, max_size=32)
    results = {}
    try:

        async def call(lat: float, lng: float) -> None:
            values = {**defaults, "lat": lat, "lng": lng}
            async with pool.acquire() as conn:
                rows = await conn.fetch(sql, *[values[n] for n in names])
                assert rows is not None

        await drive(8, points, 2, call)  # warm-up: prepared statements, caches
        for c in (1, 32):
            results[c] = await drive(c, points, seconds, call)
    finally:
        await pool.close()
    return results


async def bench_http(
    url: str, points: list[tuple[float, float]], seconds: float, *, bare: bool = False, profile: Path | None = None
) -> dict[int, dict[str, float]]:
    """The endpoint over HTTP; ``bare``: the same statement and page assembly in a bare ASGI app
    (``bench/bare/nearby.py``) on the same uvicorn, with the same pool size. ``profile``: py-spy's raw
    samples of the server during the concurrency-32 row are written there."""
    results = {}
    server = (
        served_bare("nearby:app", BARE_DATABASE_URL=url, BARE_POOL_SIZE="32")
        if bare
        else served(url, DB_POOL_SIZE="32", DB_MAX_OVERFLOW="0")
    )
    async with server as base:
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def call(lat: float, lng: float) -> None:
                params = {"lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "radius_m": "5000", "limit": "20"}
                async with http.get(base + "/api/institutions/nearby", params=params) as r:
                    await r.read()
                    assert r.status == 200, r.status

            await drive(8, points, 2, call)
            server = psutil.Process(SERVED_PIDS[base])
            for c in (1, 32):
                cpu = server.cpu_times()
                async with profiled(SERVED_PIDS[base] if c == 32 else None, profile):
                    results[c] = await drive(c, points, seconds, call)
                used = server.cpu_times()
                spent = (used.user - cpu.user) + (used.system - cpu.system)
                results[c]["cpu_ms"] = 1000 * spent / max(results[c]["n"], 1)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each measurement")
    parser.add_argument("--keep", action="store_true", help="reuse an already loaded bench database")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample both servers with py-spy during the concurrency-32 rows (raw samples to var/bench-profile/)",
    )
    add_smoke(parser, institutions=300, seconds=0.5)
    args = parse_args(parser)

    url = await fresh_database(DB_NAME, keep=args.keep)
    if not args.keep:
        await load(url, args.institutions)

    points = query_points(2000)
    raw = await bench_raw(url, points, args.seconds)
    out = ROOT / "var" / "bench-profile" if args.profile else None
    bare = await bench_http(url, points, args.seconds, bare=True, profile=out and out / "nearby-bare.txt")
    http = await bench_http(url, points, args.seconds, profile=out and out / "nearby-project.txt")

    print(f"\nnearby search, {args.institutions:,} institutions, radius 5 km, 20 results, {args.seconds:g}s per row")
    print(f"{'path':<6} {'conc':>4} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'CPU ms/req':>10}")
    for name, res in (("raw", raw), ("bare", bare), ("http", http)):
        for c, r in res.items():
            cpu = f"{r['cpu_ms']:>10.2f}" if "cpu_ms" in r else f"{'':>10}"
            print(f"{name:<6} {c:>4} {r['n']:>9,} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['rps']:>8.0f} {cpu}")
    print(
        f"\nproject/bare p50 at concurrency 1: {http[1]['p50_ms'] / bare[1]['p50_ms']:.2f}x (aim <= 1.3x); "
        f"req/s at concurrency 32: {http[32]['rps'] / bare[32]['rps']:.2f}x (aim >= 0.75x)"
    )
    print(
        f"server CPU per request at concurrency 32 (robust to a loaded machine): project/bare "
        f"{http[32]['cpu_ms'] / bare[32]['cpu_ms']:.2f}x"
    )
    print(f"HTTP/raw p50 at concurrency 1: {http[1]['p50_ms'] / raw[1]['p50_ms']:.2f}x (aim <= 2x)")
    print(
        f"HTTP/raw req/s at concurrency 32: {http[32]['rps'] / raw[32]['rps']:.2f}x; "
        f"HTTP req/s at 32: {http[32]['rps']:.0f} (aim >= 1,500)"
    )
    if out is not None:
        for name in ("nearby-bare.txt", "nearby-project.txt"):
            print("\n" + "\n".join(profile_summary(out / name, top=20)))


if __name__ == "__main__":
    asyncio.run(main())
