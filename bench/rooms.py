"""Benchmark: mother-and-baby rooms, nearby (KNN) and map viewport, against the institutions' nearby search.

    .venv/bin/python bench/rooms.py [--rooms 50000] [--institutions 50000] [--seconds 5] [--keep]

1. Creates the database ``bench_rooms`` on the embedded server (or DATABASE_URL's server), migrates it
   and loads N institutions (as bench/nearby.py does) and N rooms spread the same way around Daqing's
   ten units (σ = 6 km, in proportion to population), each room with a venue type, weekly hours,
   sometimes a dated exception, and a random subset of the ten amenities (COPY, then ANALYZE).
2. Raw SQL through asyncpg at concurrency 1 and 32, for the same query points (a parent within 3 km of
   a unit centre):
   * **inst nearby** — the baseline: the institutions endpoint's own statement (radius 5 km, 20 results);
   * **room nearby** — KNN over ``ix_rooms_earth``: ``earth_box(...) @> ll_to_earth(lat, lng)
     ORDER BY ll_to_earth(lat, lng) <-> ll_to_earth(:lat, :lng) LIMIT 20`` (radius 5 km);
   * **room nearby+amen** — the same with ``amenities @> {changing_table, baby_bed}``;
   * **room near+amen cust** — the same on connections with ``plan_cache_mode = force_custom_plan``
     (kept as a check: with the GIN index on amenities that migration 0008 first had, the generic
     plan of the prepared filtered statement ANDed the GIN bitmap with the box and sorted, about
     10x slower than walking the GiST index; the index was dropped and both rows now agree);
   * **room viewport** — ``lat BETWEEN … AND lng BETWEEN … LIMIT 500`` over a phone-sized box
     (about 2.7 km × 3.8 km) around the point (``ix_rooms_lat_lng``);
   * **room viewport city** — the same over the whole of the central districts (the cap is reached).
3. HTTP, when the rooms routes exist (``GET /api/rooms/nearby``, ``/api/rooms/viewport``): the same
   points through the server as ``make run`` serves it, with ``GET /api/institutions/nearby`` as the
   baseline. Skipped (and said so) when the server answers 404.
4. Prints p50/p99 latency, requests/s, each row's ratio to its baseline, and the plans used.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
from common import add_smoke, fresh_database, parse_args, served
from nearby import UNITS, compiled_sql, drive, jitter, query_points
from nearby import load as load_institutions

from backend.core import pgserver
from backend.rooms.models import AMENITIES, VENUE_TYPES

DB_NAME = "bench_rooms"
RADIUS_M = 5000.0
LIMIT = 20
VIEWPORT_CAP = 500
WANTED = ["baby_bed", "changing_table"]
HALF_LAT, HALF_LNG = 0.012, 0.025  # about 2.7 km x 3.8 km at Daqing's latitude
CITY = (46.50, 124.80, 46.70, 125.25)  # south, west, north, east: the central districts

ROOM_COLUMNS = "id, name, venue, venue_type, address, location_hint, lat, lng, opening_hours, exceptions, amenities"
NEARBY_SQL = f"""
SELECT {ROOM_COLUMNS},
       earth_distance(ll_to_earth(lat, lng), ll_to_earth($1, $2)) AS distance_m
FROM rooms
WHERE earth_box(ll_to_earth($1, $2), $3) @> ll_to_earth(lat, lng)
ORDER BY ll_to_earth(lat, lng) <-> ll_to_earth($1, $2)
LIMIT $4"""
NEARBY_AMENITY_SQL = f"""
SELECT {ROOM_COLUMNS},
       earth_distance(ll_to_earth(lat, lng), ll_to_earth($1, $2)) AS distance_m
FROM rooms
WHERE earth_box(ll_to_earth($1, $2), $3) @> ll_to_earth(lat, lng) AND amenities @> $5::varchar[]
ORDER BY ll_to_earth(lat, lng) <-> ll_to_earth($1, $2)
LIMIT $4"""
VIEWPORT_SQL = """
SELECT id, name, lat, lng, venue_type, opening_hours, exceptions
FROM rooms
WHERE lat BETWEEN $1 AND $3 AND lng BETWEEN $2 AND $4
LIMIT $5"""

HOURS = [
    [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}],
    [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "05:30", "closes": "23:30"}],
    [{"days": [1, 2, 3, 4, 5], "opens": "09:30", "closes": "21:30"}, {"days": [6, 7], "opens": "09:30", "closes": "22:00"}],
    [{"days": [1, 2, 3, 4, 5], "opens": "08:30", "closes": "11:30"}, {"days": [1, 2, 3, 4, 5], "opens": "13:30", "closes": "17:00"}],
]  # fmt: skip
EXCEPTION = [{"date": "2027-02-05", "closed": True, "note": "春节休息"}]


def room_rows(n: int, seed: int = 43) -> bytes:
    rng = random.Random(seed)
    codes = list(UNITS)
    weights = [UNITS[c][2] for c in codes]
    venue_types = list(VENUE_TYPES)
    amenities = list(AMENITIES)
    hours = [json.dumps(h, ensure_ascii=False) for h in HOURS]
    exception = json.dumps(EXCEPTION, ensure_ascii=False)
    out = io.StringIO()
    for i in range(n):
        unit = rng.choices(codes, weights)[0]
        lat, lng = jitter(rng, UNITS[unit][0], UNITS[unit][1], 6.0)
        rid = uuid.UUID(int=rng.getrandbits(128), version=4)
        kit = "{" + ",".join(sorted(rng.sample(amenities, rng.randint(2, 10)))) + "}"
        exc = exception if rng.random() < 0.2 else "[]"
        out.write(
            f"{rid}\t基准母婴室{i}\t基准场所{i}\t{rng.choice(venue_types)}\t大庆市测试路{i}号\t二楼\t{unit}\t"
            f"{lat:.6f}\t{lng:.6f}\t{rng.choice(hours)}\t{exc}\t{kit}\t{rng.randint(5, 40)}\t"
            f"{'t' if rng.random() < 0.8 else 'f'}\n"
        )
    return out.getvalue().encode()


async def load_rooms(url: str, n: int) -> None:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        t0 = time.perf_counter()
        await conn.copy_to_table(
            "rooms",
            source=io.BytesIO(room_rows(n)),
            columns=[
                "id",
                "name",
                "venue",
                "venue_type",
                "address",
                "location_hint",
                "unit_code",
                "lat",
                "lng",
                "opening_hours",
                "exceptions",
                "amenities",
                "area_m2",
                "independent",
            ],
        )
        await conn.execute("VACUUM ANALYZE rooms")
        print(f"loaded {n:,} rooms in {time.perf_counter() - t0:.1f}s")
    finally:
        await conn.close()


def box(lat: float, lng: float) -> tuple[float, float, float, float]:
    return lat - HALF_LAT, lng - HALF_LNG, lat + HALF_LAT, lng + HALF_LNG


Call = Callable[[float, float], Awaitable[None]]


async def measure(calls: dict[str, Call], points: list[tuple[float, float]], seconds: float) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for name, call in calls.items():
        await drive(8, points, 1, call)  # warm-up: prepared statements, caches
        results[name] = {c: await drive(c, points, seconds, call) for c in (1, 32)}
    return results


async def bench_raw(url: str, points: list[tuple[float, float]], seconds: float) -> tuple[dict[str, dict], list[str]]:
    inst_sql, names, defaults = compiled_sql()
    pool = await asyncpg.create_pool(pgserver.asyncpg_dsn(url), min_size=32, max_size=32)
    custom = await asyncpg.create_pool(  # re-planned with each call's values, never the generic plan
        pgserver.asyncpg_dsn(url), min_size=32, max_size=32, server_settings={"plan_cache_mode": "force_custom_plan"}
    )
    counts: dict[str, list[int]] = {}

    def counted(name: str, sql: str, args: Callable[[float, float], tuple[Any, ...]], on: Any = None) -> Call:
        seen = counts.setdefault(name, [])

        async def call(lat: float, lng: float) -> None:
            async with (on or pool).acquire() as conn:
                rows = await conn.fetch(sql, *args(lat, lng))
            if len(seen) < 500:
                seen.append(len(rows))

        return call

    def inst_args(lat: float, lng: float) -> tuple[Any, ...]:
        values = {**defaults, "lat": lat, "lng": lng}
        return tuple(values[n] for n in names)

    calls = {
        "inst nearby": counted("inst nearby", inst_sql, inst_args),
        "room nearby": counted("room nearby", NEARBY_SQL, lambda lat, lng: (lat, lng, RADIUS_M, LIMIT)),
        "room nearby+amen": counted(
            "room nearby+amen", NEARBY_AMENITY_SQL, lambda lat, lng: (lat, lng, RADIUS_M, LIMIT, WANTED)
        ),
        "room near+amen cust": counted(
            "room near+amen cust", NEARBY_AMENITY_SQL, lambda lat, lng: (lat, lng, RADIUS_M, LIMIT, WANTED), custom
        ),
        "room viewport": counted("room viewport", VIEWPORT_SQL, lambda lat, lng: (*box(lat, lng), VIEWPORT_CAP)),
        "room viewport city": counted("room viewport city", VIEWPORT_SQL, lambda lat, lng: (*CITY, VIEWPORT_CAP)),
    }
    try:
        results = await measure(calls, points, seconds)
        lat, lng = points[0]
        plans = []
        async with pool.acquire() as conn:
            for name, sql, args in (
                ("room nearby", NEARBY_SQL, (lat, lng, RADIUS_M, LIMIT)),
                ("room nearby+amen", NEARBY_AMENITY_SQL, (lat, lng, RADIUS_M, LIMIT, WANTED)),
                ("room viewport", VIEWPORT_SQL, (*box(lat, lng), VIEWPORT_CAP)),
                ("room viewport city", VIEWPORT_SQL, (*CITY, VIEWPORT_CAP)),
            ):
                rows = await conn.fetch("EXPLAIN " + sql, *args)
                scans = [r[0].strip().lstrip("-> ") for r in rows if "Scan" in r[0]]
                plans.append(f"{name}: {' / '.join(scans)}")
    finally:
        await pool.close()
        await custom.close()
    for name, seen in counts.items():
        results[name]["rows"] = sum(seen) / max(1, len(seen))
    return results, plans


async def bench_http(url: str, points: list[tuple[float, float]], seconds: float) -> dict[str, dict] | None:
    async with served(url, DB_POOL_SIZE="32", DB_MAX_OVERFLOW="0") as base:
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as http:

            def get(path: str, params: Callable[[float, float], dict[str, str] | list[tuple[str, str]]]) -> Call:
                async def call(lat: float, lng: float) -> None:
                    async with http.get(base + path, params=params(lat, lng)) as r:
                        await r.read()
                        assert r.status == 200, (path, r.status, await r.text())

                return call

            def near(lat: float, lng: float) -> list[tuple[str, str]]:
                return [("lat", f"{lat:.6f}"), ("lng", f"{lng:.6f}"), ("radius_m", "5000"), ("limit", str(LIMIT))]

            def view(lat: float, lng: float) -> dict[str, str]:
                s, w, n, e = box(lat, lng)
                return {"south": f"{s:.6f}", "west": f"{w:.6f}", "north": f"{n:.6f}", "east": f"{e:.6f}"}

            async with http.get(base + "/api/rooms/nearby", params=near(*points[0])) as r:
                if r.status == 404:
                    return None
            calls = {
                "inst nearby": get("/api/institutions/nearby", near),
                "room nearby": get("/api/rooms/nearby", near),
                "room nearby+amen": get(
                    "/api/rooms/nearby", lambda lat, lng: near(lat, lng) + [("amenity", a) for a in WANTED]
                ),
                "room viewport": get("/api/rooms/viewport", view),
            }
            return await measure(calls, points, seconds)


def report(title: str, results: dict[str, dict]) -> None:
    base = results["inst nearby"]
    print(f"\n{title}")
    print(
        f"{'query':<19} {'conc':>4} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'p50 x':>6} {'req/s x':>7}"
    )
    for name, res in results.items():
        for c in (1, 32):
            r = res[c]
            print(
                f"{name:<19} {c:>4} {r['n']:>9,} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['rps']:>8.0f} "
                f"{r['p50_ms'] / base[c]['p50_ms']:>6.2f} {r['rps'] / base[c]['rps']:>7.2f}"
            )
    rows = {name: res["rows"] for name, res in results.items() if "rows" in res}
    if rows:
        print("mean rows returned: " + ", ".join(f"{k} {v:.0f}" for k, v in rows.items()))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=50_000)
    parser.add_argument("--institutions", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument("--keep", action="store_true", help="reuse an already loaded bench database")
    parser.add_argument("--no-http", action="store_true", help="measure the SQL only")
    add_smoke(parser, rooms=300, institutions=300, seconds=0.5)
    args = parse_args(parser)

    url = await fresh_database(DB_NAME, keep=args.keep)
    if not args.keep:
        await load_institutions(url, args.institutions)
        await load_rooms(url, args.rooms)

    points = query_points(2000)
    raw, plans = await bench_raw(url, points, args.seconds)
    http = None if args.no_http else await bench_http(url, points, args.seconds)

    setting = f"{args.rooms:,} rooms, {args.institutions:,} institutions, {args.seconds:.0f}s per row"
    report(f"raw SQL (asyncpg), {setting}; x = ratio to inst nearby at the same concurrency", raw)
    print("plans: " + "\n       ".join(plans))
    if http is None:
        print("\nHTTP: skipped" + ("" if args.no_http else " (GET /api/rooms/nearby answers 404: no rooms routes yet)"))
    else:
        report(f"HTTP (one uvicorn worker), {setting}; x = ratio to GET /api/institutions/nearby", http)


if __name__ == "__main__":
    asyncio.run(main())
