"""Benchmark: the statistics overview (统计监测), the whole city for 36 months.

    .venv/bin/python bench/statistics.py [--scale 1] [--runs 30]

1. Creates the database ``bench_statistics`` on the embedded server (or on DATABASE_URL's server),
   migrates it and loads the Daqing demo data (as ``make run`` does).
2. ``--scale N`` (default 1; 0 = the demo data alone) then adds N × (2,000 institutions with two
   classes each, created over the last three years, 80 % filed; 20,000 complaints, 70 % resolved;
   50,000 hourly slots; 1,500 guidance events with 15,000 attendances), with INSERT … SELECT, then ANALYZE.
3. In-process: ``service.overview`` as a city admin for the last 36 months (what the handler runs),
   ``--runs`` times after a warm-up; and each of its SQL statements alone (EXPLAIN ANALYZE time).
4. HTTP: starts the server as ``make run`` does (one worker) and requests
   ``GET /api/statistics/overview`` and ``GET /api/statistics/export.csv`` for 36 months, one at a time.
5. The baseline, in the same run: the service's six SQL statements alone, one after another (no
   service code, no HTTP). Prints row counts, p50/p99 latencies and each path's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import aiohttp
from common import add_smoke, fresh_database, parse_args, percentile, served
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend.complaints.routing import CATEGORIES as CATEGORY_CODES
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import local_today
from backend.core.config import Settings
from backend.core.db import create_engine
from backend.demo.data import DEMO_PASSWORD
from backend.demo.seed import seed
from backend.statistics import service

DB_NAME = "bench_statistics"
UNITS = "ARRAY[230602, 230604, 230603, 230605, 230606, 230671, 230621, 230622, 230623, 230624]"
CATEGORIES = "ARRAY[" + ", ".join(f"'{c}'" for c in CATEGORY_CODES) + "]"

SYNTHETIC = [
    # institutions: created over the last ~3 years; 80 % filed some days later
    f"""
    INSERT INTO institutions (id, name, legal_form, registration_no, filing_status, filed_at, unit_code, address, lat, lng,
                              phone, ownership, is_inclusive, is_demonstration, created_at)
    SELECT gen_random_uuid(), '基准机构' || i, 'for_profit',
           'Y9' || lpad(((i % 900000) + 100000)::text, 6, '0') || lpad(i::text, 10, '0'),
           CASE WHEN f THEN 'filed' ELSE 'unfiled' END,
           CASE WHEN f THEN least(c + interval '20 days', now()) END,
           ({UNITS})[1 + i % 10], '大庆市基准路' || i || '号', 46.5 + random() / 5, 125 + random() / 5,
           '0459-1234567', 'private', random() < 0.3, random() < 0.01, c
    FROM (SELECT i, now() - random() * interval '1100 days' AS c, random() < 0.8 AS f
          FROM generate_series(CAST(:lo AS int), CAST(:hi AS int)) AS i) s
    """,
    """
    INSERT INTO classes (id, institution_id, name, class_type, capacity, carers, offline_count, created_at)
    SELECT gen_random_uuid(), i.id, t.name, t.class_type, t.capacity, t.carers, floor(random() * t.capacity), i.created_at
    FROM institutions i
    CROSS JOIN (VALUES ('托小班', 'toddler', 15, 3), ('托大班', 'older_toddler', 20, 3)) AS t(name, class_type, capacity, carers)
    WHERE i.name LIKE '基准机构%' AND NOT EXISTS (SELECT 1 FROM classes c WHERE c.institution_id = i.id)
    """,
    f"""
    INSERT INTO complaints (id, tracking_digest, category, urgent, target_type, description, address, unit_code,
                            department_codes, status, created_at, ack_due_at, resolve_due_at, closed_at)
    SELECT gen_random_uuid(), sha256(('bench-' || CAST(:lo AS int) || '-' || i)::bytea), ({CATEGORIES})[1 + i % 10], false, 'place',
           '基准投诉', '大庆市基准路', CASE WHEN i % 50 = 0 THEN NULL ELSE ({UNITS})[1 + i % 10] END, '{{health}}',
           CASE WHEN r THEN 'resolved' ELSE 'received' END, c, c + interval '1 day', c + interval '21 days',
           CASE WHEN r THEN c + random() * interval '400 hours' END
    FROM (SELECT i, now() - interval '20 days' - random() * interval '1080 days' AS c, random() < 0.7 AS r
          FROM generate_series(CAST(:lo AS int), CAST(:hi AS int) * 10) AS i) s
    """,
    # slots: one toddler slot a day at a share of the synthetic institutions, on distinct days
    """
    INSERT INTO slots (id, institution_id, day, band, start_min, end_min, capacity, booked)
    SELECT gen_random_uuid(), inst.id, (current_date - d), 'toddler', 540, 600, 5, floor(random() * 6)
    FROM (SELECT id FROM institutions WHERE name IN (SELECT '基准机构' || g FROM generate_series(CAST(:lo AS int), CAST(:lo AS int) + 49) g)) inst
    CROSS JOIN generate_series(1, 1000) AS d
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO accounts (id, phone) SELECT gen_random_uuid(), '199' || lpad(i::text, 8, '0')
    FROM generate_series(CAST(:lo AS int), CAST(:lo AS int) + 1999) AS i ON CONFLICT DO NOTHING
    """,
    f"""
    INSERT INTO guidance_events (id, host_name, unit_code, kind, title, description, address, lat, lng,
                                 starts_at, ends_at, capacity, registered)
    SELECT gen_random_uuid(), '基准妇幼保健院', ({UNITS})[1 + i % 10], 'parent_class', '基准讲座', '基准', '基准路',
           46.6, 125.1, s, s + interval '2 hours', 30, 10
    FROM (SELECT i, now() - random() * interval '1080 days' AS s FROM generate_series(CAST(:lo AS int), CAST(:lo AS int) + 1499 * CAST(:scale AS int)) AS i) e
    """,
    """
    INSERT INTO guidance_registrations (id, event_id, account_id, status, attended_at)
    SELECT gen_random_uuid(), e.id, a.id, 'attended', e.starts_at
    FROM (SELECT id, starts_at FROM guidance_events WHERE host_name = '基准妇幼保健院'
            AND NOT EXISTS (SELECT 1 FROM guidance_registrations r WHERE r.event_id = guidance_events.id)) e
    CROSS JOIN LATERAL (SELECT id FROM accounts WHERE phone LIKE '199%' ORDER BY random() LIMIT 10) a
    """,
]


async def load(url: str, settings: Settings, scale: int) -> None:
    t0 = time.perf_counter()
    counts = await seed(url, settings)
    print(f"demo data: {sum(v for v in counts.values() if isinstance(v, int))} rows in {time.perf_counter() - t0:.1f}s")
    if scale <= 0:
        return
    engine = create_engine(settings, url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL statement_timeout = 0"))
            t0 = time.perf_counter()
            for k in range(scale):
                lo, hi = 1 + k * 2000, (k + 1) * 2000
                for sql in SYNTHETIC:
                    await conn.execute(text(sql), {"lo": lo, "hi": hi, "scale": 1})
            print(f"synthetic data (scale {scale}) in {time.perf_counter() - t0:.1f}s")
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in (
                "institutions",
                "classes",
                "complaints",
                "slots",
                "guidance_events",
                "guidance_registrations",
            ):
                await conn.execute(text(f"VACUUM ANALYZE {table}"))
            rows = {
                t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                for t in ("institutions", "classes", "complaints", "slots", "guidance_events", "guidance_registrations")
            }
            print("rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))
    finally:
        await engine.dispose()


def months_36() -> tuple[str, str]:
    last = local_today().replace(day=1)
    return service.month_label(service.add_months(last, -35)), service.month_label(last)


def summary(name: str, latencies: list[float]) -> float:
    """Prints the row; returns the p50 in seconds."""
    print(
        f"{name:<44} n={len(latencies):>3}  p50 {percentile(latencies, 50) * 1000:7.1f} ms"
        f"  p99 {percentile(latencies, 99) * 1000:7.1f} ms"
    )
    return percentile(latencies, 50)


async def bench_in_process(url: str, settings: Settings, runs: int) -> dict[str, float]:
    """p50s: "baseline" (the six statements alone, in sequence) and "service" (the whole service call)."""
    first, last = months_36()
    admin = Principal(uuid.uuid4(), uuid.uuid4(), (Grant(Role.CITY_ADMIN),))
    engine = create_engine(settings, url)
    try:
        maker = async_sessionmaker(engine, expire_on_commit=False)
        latencies = []
        for k in range(runs + 3):
            async with maker() as db:
                t0 = time.perf_counter()
                o = await service.overview(db, admin, from_month=first, to_month=last, unit=None)
                if k >= 3:
                    latencies.append(time.perf_counter() - t0)
        assert o.city is not None and len(o.city.months) == 36
        p50 = {"service": summary("service.overview (city, 36 months)", latencies)}
        # each statement alone, as PostgreSQL times it
        f, l_ = service.parse_month(first, "from"), service.parse_month(last, "to")
        after = service.add_months(l_, 1)
        units = [230602, 230604, 230603, 230605, 230606, 230671, 230621, 230622, 230623, 230624]
        common = {"units": units, "first": f, "last": l_, "ends": service.local_start(after)}
        flow = {"starts": service.local_start(f), "ends": service.local_start(after), "all_units": True, "units": units}
        statements = {
            "stocks (running sums)": (service._stock_sql(), common),
            "occupancy": (service._OCCUPANCY_SQL, {"units": units}),
            "slots": (service._SLOTS_SQL, {"units": units, "first": f, "after": after}),
            "complaints by category": (service._COMPLAINTS_SQL, flow),
            "resolution median": (service._RESOLVED_SQL, flow),
            "families reached": (service._GUIDANCE_SQL, flow),
        }
        async with maker() as db:
            for name, (sql, params) in statements.items():
                plan = (await db.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql), params)).scalar()
                print(f"  {name:<28} {plan[0]['Execution Time']:8.1f} ms")
            # The baseline: the same six statements run one after another and fetched, nothing else
            # (no service code around them, no HTTP): what the database work alone costs in this run.
            latencies = []
            for k in range(runs + 3):
                t0 = time.perf_counter()
                for sql, params in statements.values():
                    (await db.execute(text(sql), params)).all()
                if k >= 3:
                    latencies.append(time.perf_counter() - t0)
            p50["baseline"] = summary("baseline: the six statements alone", latencies)
        return p50
    finally:
        await engine.dispose()


async def bench_http(url: str, runs: int) -> dict[str, float]:
    """p50s of the JSON and CSV answers."""
    first, last = months_36()
    params = {"from": first, "to": last}
    async with served(url) as base, aiohttp.ClientSession() as http:
        async with http.post(
            base + "/api/auth/login", json={"login": "city.admin@daqing.example", "password": DEMO_PASSWORD}
        ) as r:
            assert r.status in (200, 201), await r.text()
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        p50 = {}
        for path, n in (("/api/statistics/overview", runs), ("/api/statistics/export.csv", max(5, runs // 3))):
            latencies = []
            size = 0
            for k in range(n + 2):
                t0 = time.perf_counter()
                async with http.get(base + path, params=params, headers=headers) as r:
                    body = await r.read()
                    assert r.status == 200, body[:300]
                if k >= 2:
                    latencies.append(time.perf_counter() - t0)
                size = len(body)
            p50[path] = summary(f"GET {path} (36 months, {size / 1024:.0f} KB)", latencies)
        return p50


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="synthetic data on top of the demo (0: demo only)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse the existing bench_statistics database")
    add_smoke(parser, scale=0, runs=2)
    args = parse_args(parser)
    url = await fresh_database(DB_NAME, keep=args.keep)
    settings = Settings.from_env()
    if not args.keep:
        await load(url, settings, args.scale)
    local = await bench_in_process(url, settings, args.runs)
    http = await bench_http(url, args.runs)
    base = local["baseline"]
    print(
        f"\nratios to the baseline (p50): service {local['service'] / base:.2f}x, "
        f"HTTP JSON {http['/api/statistics/overview'] / base:.2f}x, "
        f"HTTP CSV {http['/api/statistics/export.csv'] / base:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
