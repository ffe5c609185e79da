"""Benchmark: importing the institutions register (备案名单) — 20,000 institutions with 3 classes each.

    .venv/bin/python bench/import.py [--rows 20000] [--format xlsx|csv] [--smoke]

1. Builds the file in memory (the import's own headers, GCJ-02 coordinates around Daqing's units,
   3 classes and 2 prices per institution) and recreates the database ``bench_import``.
2. Imports it as ``python -m backend import institutions FILE --crs gcj02`` does: the dry run (read,
   map headers, check every row against the rules and the database, store the run) and the apply
   (check again under the lock, bulk writes) in one transaction, committed. The target: under 60 s.
3. Imports the same file again: every row unchanged, nothing written but the history row.
4. Baseline, same run: a raw ``COPY`` of the same institutions and classes (already parsed and
   converted, no checks) into an emptied database — the floor for getting these rows into PostgreSQL.
   Prints each step's seconds and the ratio of the whole import to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid

import asyncpg
from common import add_smoke, fresh_database, parse_args
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend.core import pgserver
from backend.core.config import Settings
from backend.core.db import create_engine
from backend.imports import service
from backend.imports.crs import Crs, from_wgs84
from backend.imports.tables import FileFormat, read_table, write_table
from backend.institutions.rules import uscc_check_char
from backend.models import import_all_models

DB_NAME = "bench_import"
UNITS = [("萨尔图区", 46.63, 125.11), ("让胡路区", 46.65, 124.87), ("龙凤区", 46.56, 125.14), ("红岗区", 46.40, 124.89),
         ("大同区", 46.04, 124.82), ("肇州县", 45.70, 125.27), ("肇源县", 45.52, 125.08), ("林甸县", 47.19, 124.86)]  # fmt: skip
UNIT_CODES = {"萨尔图区": 230602, "让胡路区": 230604, "龙凤区": 230603, "红岗区": 230605, "大同区": 230606,
              "肇州县": 230621, "肇源县": 230622, "林甸县": 230623}  # fmt: skip
CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CLASSES = [("托小一班", "托小班", 15, 3), ("托大一班", "托大班", 20, 3), ("混合一班", "混合班", 18, 4)]
HEADER = ["机构名称", "统一社会信用代码", "法人类型", "举办性质", "所属区县", "地址", "经度", "纬度", "联系电话",
          "普惠", "全日托收费", "计时托收费"] + [f"班级{n}{f}" for n in (1, 2, 3) for f in ("名称", "类型", "托位数", "保育人员数")]  # fmt: skip


def build_rows(n: int) -> list[list[str]]:
    rnd = random.Random(20)
    rows, seen = [], set()
    while len(rows) < n:
        first17 = "52230602" + "".join(rnd.choice(CHARS) for _ in range(9))
        if first17 in seen:
            continue
        seen.add(first17)
        unit, lat, lng = rnd.choice(UNITS)
        g_lng, g_lat = from_wgs84(Crs.GCJ02, lng + rnd.gauss(0, 0.04), lat + rnd.gauss(0, 0.03))
        i = len(rows)
        row = [f"托育园{i}", first17 + uscc_check_char(first17), "社会服务机构", "民办", unit, f"{unit}某路{i}号",
               f"{g_lng:.6f}", f"{g_lat:.6f}", "0459-6000000", rnd.choice(["是", "否"]), f"{rnd.randint(18, 40)}00元/月",
               "30元/小时"]  # fmt: skip
        for name, kind, cap, carers in CLASSES:
            row += [name, kind, str(cap), str(carers)]
        rows.append(row)
    return rows


async def full_import(url: str, settings: Settings, content: bytes) -> tuple[float, float, dict[str, int]]:
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            t0 = time.perf_counter()
            await service.lock(db, "institutions")
            run, report = await service.dry_run_with_report(
                db, settings, kind="institutions", content=content, filename="bench", crs=Crs.GCJ02, actor=None,
                via="cli",
            )  # fmt: skip
            assert run.error_count == 0, run.problems[:3]
            t1 = time.perf_counter()
            run = await service.apply(db, settings, run.id, None, checked=report)
            await db.commit()
            t2 = time.perf_counter()
            return t1 - t0, t2 - t1, run.counts
    finally:
        await engine.dispose()


async def copy_baseline(url: str, rows: list[list[str]]) -> float:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE institutions CASCADE")
        insts, classes = [], []
        for r in rows:  # parsing and conversion are outside the timing: the floor is the writes
            iid = uuid.uuid4()
            lng, lat = (float(r[6]), float(r[7]))
            insts.append((iid, r[0], "social_organisation", r[1], UNIT_CODES[r[4]], r[5], lat, lng, r[8], "private"))
            for name, kind, cap, carers in CLASSES:
                ct = {"托小班": "toddler", "托大班": "older_toddler", "混合班": "mixed"}[kind]
                classes.append((uuid.uuid4(), iid, name, ct, cap, carers))
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("institutions", records=insts, columns=[
                "id", "name", "legal_form", "registration_no", "unit_code", "address", "lat", "lng", "phone", "ownership"])  # fmt: skip
            await conn.copy_records_to_table("classes", records=classes, columns=[
                "id", "institution_id", "name", "class_type", "capacity", "carers"])  # fmt: skip
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    add_smoke(parser, rows=200)
    args = parse_args(parser)
    import_all_models()
    settings = Settings.from_env()
    rows = build_rows(args.rows)
    fmt = FileFormat(args.format)
    t = time.perf_counter()
    content = write_table(fmt, HEADER, rows)
    print(
        f"file: {args.rows} institutions x 3 classes, {fmt.value}, {len(content) / 1e6:.1f} MB (written in {time.perf_counter() - t:.1f} s)"
    )
    t = time.perf_counter()
    read_table(content)
    read_s = time.perf_counter() - t
    url = await fresh_database(DB_NAME)
    dry_s, apply_s, counts = await full_import(url, settings, content)
    total = dry_s + apply_s
    print(
        f"import:        {total:6.1f} s  (dry run {dry_s:.1f} s, of which reading the file {read_s:.1f} s; apply {apply_s:.1f} s)  {counts}"
    )
    print(f"  target 60 s: {'met' if total < 60 else 'NOT MET'}")
    dry2, apply2, counts2 = await full_import(url, settings, content)
    print(f"same again:    {dry2 + apply2:6.1f} s  (dry run {dry2:.1f} s, apply {apply2:.1f} s)  {counts2}")
    assert counts2["create"] == 0 and counts2["update"] == 0
    base = await copy_baseline(url, rows)
    print(f"baseline COPY: {base:6.1f} s  (the same rows, parsed, no checks)")
    print(f"ratio import / COPY: {total / base:.1f}x")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (seconds scale with it)")


if __name__ == "__main__":
    asyncio.run(main())
