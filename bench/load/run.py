"""Load scenario: parents searching and booking, staff at the desk, WebSocket listeners — with locust.

    .venv/bin/python bench/load/run.py      # or: make bench-load
    .venv/bin/python bench/load/run.py --parents 20 --staff 5 --listeners 50 --seconds 20   # a quick try

1. A scratch database ``bench_load`` on the embedded server (or DATABASE_URL's server), migrated, with the
   Daqing demo data; then parent accounts (one child each, 18 or 30 months old, added by the families
   service as ``POST /api/children`` adds them), desk staff and listener staff of the demo institutions
   that take hourly/temporary bookings (accounts and role grants by SQL), and a session for each made by
   the project's own ``create_session`` (no sign-in endpoint, so no rate limit is involved).
   The places of those institutions' published slots are raised to ``--places`` so that bookings are
   decided by free places, not refused because a demo slot of 3-6 places filled up.
2. ``python -m backend serve`` as ``make run`` serves it (``--workers`` uvicorn workers, default 1),
   its log in ``<out>/server.log``.
3. A baseline: the same scenario with ``--baseline-users`` users (default 10, in the same proportions),
   then the full scenario, each ``locust --headless`` with CSV output (``<out>/baseline_*``, ``<out>/full_*``).
   One extra user polls ``GET /health`` once a second in both runs.
4. Prints per endpoint: requests, failures, p50, p95, max, req/s and p95 against the baseline run; the
   WebSocket deliveries (every booking event each listener should have heard — its institution's as
   staff, its own child's as a parent — counted against the outbox); ``uptime`` before and after, and
   the CPU the server, PostgreSQL and locust used (the machine is shared: the load average says how much).

Exits non-zero on any failed request, any missing or duplicated WebSocket message, or an error in
the server's log.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import ROOT, free_port, fresh_database  # noqa: E402

DB_NAME = "bench_load"
LOCUSTFILE = HERE / "locustfile.py"
BINDIR = Path(sys.executable).parent


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=200, help="parents searching and booking")
    parser.add_argument("--staff", type=int, default=50, help="staff working the desk")
    parser.add_argument("--listeners", type=int, default=500, help="WebSocket listeners")
    parser.add_argument("--seconds", type=int, default=60, help="length of the full run")
    parser.add_argument("--spawn-rate", type=float, default=50, help="users started per second")
    parser.add_argument("--baseline-users", type=int, default=10, help="users of the baseline run (0: none)")
    parser.add_argument("--baseline-seconds", type=int, default=60)
    parser.add_argument("--quiet-seconds", type=int, default=8, help="parents stop writing this long before the end")
    parser.add_argument(
        "--parent-wait", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"), help="parents' think time (s)"
    )
    parser.add_argument(
        "--staff-wait", type=float, nargs=2, default=(2.0, 5.0), metavar=("MIN", "MAX"), help="staff's think time (s)"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (make run: 1)")
    parser.add_argument("--places", type=int, default=60, help="places per slot at the bookable institutions")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for the server (repeatable), e.g. DB_POOL_SIZE=40",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-load", help="CSV, logs, plan")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (seconds) that only proves the tooling works")
    args = parser.parse_args(argv)
    if args.smoke:  # make bench-smoke: a handful of users for a few seconds, baseline included
        args.parents, args.staff, args.listeners, args.seconds, args.quiet_seconds = 3, 1, 3, 12, 3
        args.spawn_rate, args.baseline_users, args.baseline_seconds = 10.0, 3, 8
    for name in ("parents", "staff", "listeners", "seconds", "workers", "places"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    for name in ("parent_wait", "staff_wait"):
        low, high = getattr(args, name)
        if not 0 <= low <= high:
            parser.error(f"--{name.replace('_', '-')} takes MIN MAX with 0 <= MIN <= MAX")
    if args.quiet_seconds * 2 >= args.seconds:
        parser.error("--quiet-seconds must be less than half of --seconds")
    for item in args.server_env:
        if "=" not in item or not item.split("=", 1)[0].isupper():
            parser.error(f"--server-env takes NAME=VALUE, got {item!r}")
    if args.baseline_users and args.baseline_users < 3:
        parser.error("--baseline-users must be 0 or at least 3 (a parent, a staff member and a listener)")
    return args


def split(users: int, parents: int, staff: int, listeners: int) -> tuple[int, int, int]:
    """``users`` divided like parents:staff:listeners, at least one of each."""
    total = parents + staff + listeners
    p = max(1, round(users * parents / total))
    s = max(1, round(users * staff / total))
    return p, s, max(1, users - p - s)


# --------------------------------------------------------------------------------------------- the data


async def prepare(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Demo data, accounts, children, sessions; returns the plan the locustfile reads."""
    import msgspec
    from sqlalchemy import exists, func, select, text
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from backend.accounts.sessions import create_session, resolve_session
    from backend.blacklist.models import institution_blacklisted
    from backend.bookings.models import Slot
    from backend.core.clock import local_today
    from backend.core.config import Settings
    from backend.core.db import create_engine
    from backend.demo.seed import seed
    from backend.families.schemas import CHILD_DATA_POLICY_VERSION, ChildIn
    from backend.families.service import add_child
    from backend.institutions.models import Institution, InstitutionMode

    settings = Settings.from_env()
    await seed(url, settings)
    today = local_today()
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            bookable = (
                select(
                    Institution.id,
                    Institution.lat,
                    Institution.lng,
                    func.array_agg(InstitutionMode.mode).label("modes"),
                )
                .join(InstitutionMode, InstitutionMode.institution_id == Institution.id)
                .where(
                    InstitutionMode.mode.in_(["hourly", "temporary"]),
                    Institution.filing_status == "filed",
                    ~institution_blacklisted(Institution.id),
                    exists().where(Slot.institution_id == Institution.id, Slot.day > today),
                )
                .group_by(Institution.id)
                .order_by(Institution.id)
            )
            rows = (await db.execute(bookable)).all()
            if not rows:
                raise RuntimeError("no demo institution takes hourly/temporary bookings")
            institutions = [{"id": str(r.id), "lat": r.lat, "lng": r.lng, "modes": sorted(r.modes)} for r in rows]
            ids = [r.id for r in rows]
            await db.execute(
                text("UPDATE slots SET capacity = greatest(capacity, :places) WHERE institution_id = ANY(:ids)"),
                {"places": args.places, "ids": ids},
            )

            async def account(phone: str, role: str, institution_id: uuid.UUID | None = None) -> uuid.UUID:
                account_id = uuid.uuid4()
                await db.execute(
                    text("INSERT INTO accounts (id, phone) VALUES (:id, :phone)"), {"id": account_id, "phone": phone}
                )
                await db.execute(
                    text("INSERT INTO role_grants (account_id, role, institution_id) VALUES (:a, :r, :i)"),
                    {"a": account_id, "r": role, "i": institution_id},
                )
                return account_id

            async def token(account_id: uuid.UUID) -> str:
                value, _ = await create_session(db, settings, account_id)
                return value

            # Children through the families service (as POST /api/children adds them: encrypted, with the
            # guardian's consent), as the parent's own principal.
            parents = []
            for n in range(args.parents):
                account_id = await account(f"137{n:08d}", "parent")
                session_token = await token(account_id)
                principal = await resolve_session(db, session_token, via_cookie=False)
                band, age_days = ("toddler", 540) if n % 2 == 0 else ("older_toddler", 900)  # 18 / 30 months
                child = await add_child(
                    db,
                    principal,
                    msgspec.convert(
                        {
                            "name": "压测宝宝",
                            "birth_date": (today - dt.timedelta(days=age_days)).isoformat(),
                            "relation": "mother",
                            "consent": {"accepted": True, "policy_version": CHILD_DATA_POLICY_VERSION},
                        },
                        ChildIn,
                    ),
                )
                parents.append(
                    {"account_id": str(account_id), "child_id": str(child.id), "band": band, "token": session_token}
                )
            staff = []
            for n in range(args.staff):
                inst = ids[n % len(ids)]
                account_id = await account(f"136{n:08d}", "institution_staff", inst)
                staff.append({"institution_id": str(inst), "token": await token(account_id)})
            # Listeners: 2 in 5 are parents (a second device of a parent above), the rest staff of a
            # bookable institution, so booking events reach many sockets.
            listeners: list[dict[str, Any]] = []
            parent_next = staff_next = 0
            for n in range(args.listeners):
                if n % 5 in (1, 3) and parent_next < len(parents):
                    p = parents[parent_next]
                    parent_next += 1
                    account_id = uuid.UUID(p["account_id"])
                    listeners.append({"kind": "parent", "account_id": str(account_id), "institution_id": None})
                else:
                    inst = ids[staff_next % len(ids)]
                    account_id = await account(f"135{staff_next:08d}", "institution_staff", inst)
                    staff_next += 1
                    listeners.append({"kind": "staff", "account_id": str(account_id), "institution_id": str(inst)})
                listeners[-1]["token"] = await token(account_id)
            await db.commit()
    finally:
        await engine.dispose()
    days = [(today + dt.timedelta(days=d)).isoformat() for d in range(1, 13)]
    return {"institutions": institutions, "days": days, "parents": parents, "staff": staff, "listeners": listeners}


async def deliveries(url: str, report: dict[str, Any]) -> dict[str, Any]:
    """Every event each listener should have heard (in its audience, after its ``ready``, committed
    before the run's last seconds), against what it received."""
    import asyncpg

    from backend.core import pgserver

    listeners = [x for x in report["listeners"] if x["ready"] is not None]
    if not listeners:
        return {"expected": 0, "received": 0, "missing": 0, "duplicates": 0, "unexpected": 0, "listeners": 0}
    cutoff = dt.datetime.fromtimestamp(report["stopped_at"] - 2, dt.UTC)
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        events = await conn.fetch(
            "SELECT position, account_ids, institution_id, created_at FROM events WHERE position > $1 ORDER BY position",
            min(x["ready"] for x in listeners),
        )
    finally:
        await conn.close()
    expected = received = missing = duplicates = unexpected = 0
    for x in listeners:
        got = x["positions"]
        duplicates += len(got) - len(set(got))
        account = uuid.UUID(x["account_id"])
        inst = uuid.UUID(x["institution_id"]) if x["institution_id"] else None
        heard = set(got)
        want = set()
        for e in events:
            if e["position"] <= x["ready"]:
                continue
            mine = account in (e["account_ids"] or []) or (inst is not None and e["institution_id"] == inst)
            if mine and e["created_at"] < cutoff:
                want.add(e["position"])
            elif not mine and e["position"] in heard:
                unexpected += 1
        expected += len(want)
        received += len(heard & want)
        missing += len(want - heard)
    return {
        "expected": expected,
        "received": received,
        "missing": missing,
        "duplicates": duplicates,
        "unexpected": unexpected,
        "listeners": len(listeners),
        "events": len(events),
    }


# --------------------------------------------------------------------------------------------- running


@contextmanager
def server(
    url: str, out: Path, workers: int, extra: Sequence[str] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m backend serve` as `make run` serves it, on a free port; yields the base URL and process."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
        "SEED_DEMO": "false",
        "ALLOWED_ORIGINS": f"{base},http://127.0.0.1:8000",
        "PYTHONWARNINGS": "ignore",
        **dict(item.split("=", 1) for item in extra),
    }
    log = (out / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {out / 'server.log'}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become healthy; see {out / 'server.log'}")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """CPU time of the server process and its children (uvicorn workers)."""
    import psutil

    root = psutil.Process(proc.pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def database_cpu() -> dict[int, float]:
    """CPU seconds of each process of the embedded PostgreSQL server under var/pg (its backends included)."""
    import psutil

    data_dir = str(ROOT / "var" / "pg")
    out: dict[int, float] = {}
    for p in psutil.process_iter(["cmdline"]):
        cmdline = p.info["cmdline"] or []
        if "-D" in cmdline and data_dir in cmdline:
            for q in [p, *p.children()]:
                try:
                    t = q.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                out[q.pid] = t.user + t.system
    return out


def machine_busy() -> tuple[float, float]:
    import psutil

    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal, t.idle + t.iowait


def locust(
    base: str,
    out: Path,
    label: str,
    plan: Path,
    counts: tuple[int, int, int],
    args: argparse.Namespace,
    seconds: int,
    proc: subprocess.Popen[bytes],
) -> dict[str, Any]:
    parents, staff, listeners = counts
    users = parents + staff + listeners + 1  # + the health probe
    report = out / f"{label}_listeners.json"
    env = {
        **os.environ,
        "LOAD_PLAN": str(plan),
        "LOAD_REPORT": str(report),
        "LOAD_PARENTS": str(parents),
        "LOAD_STAFF": str(staff),
        "LOAD_LISTENERS": str(listeners),
        "LOAD_QUIET_S": str(args.quiet_seconds),
        "LOAD_PARENT_WAIT": ",".join(map(str, args.parent_wait)),
        "LOAD_STAFF_WAIT": ",".join(map(str, args.staff_wait)),
        "PYTHONWARNINGS": "ignore",
    }
    command = [
        str(BINDIR / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        base,
        "-u",
        str(users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(out / label),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",  # the runner decides from the CSV
    ]
    print(
        f"$ locust --headless -u {users} -r {args.spawn_rate:g} -t {seconds}s  ({parents} parents, {staff} staff,"
        f" {listeners} listeners, 1 health probe)",
        flush=True,
    )
    import resource

    database_before = database_cpu()
    server_before, locust_before, busy_before = (
        cpu_seconds(proc),
        resource.getrusage(resource.RUSAGE_CHILDREN),
        machine_busy(),
    )
    wall = time.monotonic()
    with (out / f"{label}_locust.log").open("wb") as log:
        code = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    wall = time.monotonic() - wall
    locust_after, busy_after = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy()
    database_after = database_cpu()
    cpu = {
        "wall_s": wall,
        "server_cores": (cpu_seconds(proc) - server_before) / wall,
        "locust_cores": (
            locust_after.ru_utime + locust_after.ru_stime - locust_before.ru_utime - locust_before.ru_stime
        )
        / wall,
        "database_cores": sum(v - database_before.get(pid, 0.0) for pid, v in database_after.items()) / wall,
        "machine_busy": (busy_after[0] - busy_before[0])
        / max(1e-9, (busy_after[0] - busy_before[0]) + (busy_after[1] - busy_before[1])),
    }
    if code not in (0, 1):
        raise RuntimeError(f"locust exited with {code}; see {out / f'{label}_locust.log'}")
    result = json.loads(report.read_text())
    result["cpu"] = cpu
    print(
        f"  CPU over {wall:.0f} s: server {cpu['server_cores']:.2f} cores, PostgreSQL {cpu['database_cores']:.2f} cores,"
        f" locust {cpu['locust_cores']:.2f} cores,"
        f" whole machine {cpu['machine_busy']:.0%} busy (other work included)",
        flush=True,
    )
    return result


def read_stats(path: Path) -> dict[tuple[str, str], dict[str, float]]:
    stats = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            stats[(row["Type"], row["Name"])] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "max": float(row["Max Response Time"] or 0),
                "rps": float(row["Requests/s"] or 0),
            }
    return stats


def table(full: dict[tuple[str, str], dict[str, float]], base: dict[tuple[str, str], dict[str, float]]) -> str:
    lines = [
        f"{'endpoint':<52} {'requests':>9} {'fail':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'p95 x':>6}"
    ]
    for (kind, name), s in full.items():
        label = "total" if name == "Aggregated" else f"{kind} {name}"
        b = base.get((kind, name))
        ratio = f"{s['p95'] / b['p95']:.1f}" if b and b["p95"] else "-"
        lines.append(
            f"{label:<52} {s['requests']:>9,} {s['failures']:>5} {s['p50']:>8.0f} {s['p95']:>8.0f} {s['max']:>8.0f}"
            f" {s['rps']:>7.1f} {ratio:>6}"
        )
    return "\n".join(lines)


def server_errors(out: Path) -> list[str]:
    text = (out / "server.log").read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or " ERROR" in line or "ERROR:" in line]


def server_warnings(out: Path) -> Counter[str]:
    """The server log's warnings, counted by message (timestamps and ids left out)."""
    counts: Counter[str] = Counter()
    for line in (out / "server.log").read_text(errors="replace").splitlines():
        if line.startswith("WARNING"):
            message = line.split(" - ", 4)[-1]
            counts[re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "#", message)] += 1
    return counts


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"uptime before: {uptime()}", flush=True)
    started = time.monotonic()
    url = asyncio.run(fresh_database(DB_NAME))
    plan = asyncio.run(prepare(url, args))
    plan_path = out / "plan.json"
    plan_path.write_text(json.dumps(plan))
    print(
        f"data: demo + {len(plan['parents'])} parents (one child each), {len(plan['staff'])} desk staff,"
        f" {len(plan['listeners'])} listeners; {len(plan['institutions'])} institutions take bookings"
        f" ({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    counts = (args.parents, args.staff, args.listeners)
    if args.server_env:
        print(f"server settings: {' '.join(args.server_env)}", flush=True)
    with server(url, out, args.workers, args.server_env) as (base, proc):
        baseline: dict[tuple[str, str], dict[str, float]] = {}
        if args.baseline_users:
            small = split(args.baseline_users, *counts)
            report = locust(base, out, "baseline", plan_path, small, args, args.baseline_seconds, proc)
            baseline = read_stats(out / "baseline_stats.csv")
            print(f"baseline deliveries: {json.dumps(asyncio.run(deliveries(url, report)))}", flush=True)
        print(f"uptime before the full run: {uptime()}", flush=True)
        report = locust(base, out, "full", plan_path, counts, args, args.seconds, proc)
        print(f"uptime after: {uptime()}", flush=True)
        full = read_stats(out / "full_stats.csv")
        delivered = asyncio.run(deliveries(url, report))
    errors = server_errors(out)

    print()
    print(table(full, baseline))
    print()
    ws = report["summary"]
    print(
        f"WebSocket: {ws['connected']} of {args.listeners} connected, {ws['closed']} closed early;"
        f" booking events sent by parents: {report['writes']}"
    )
    print(
        f"deliveries: {delivered['received']:,} of {delivered['expected']:,} expected"
        f" (missing {delivered['missing']}, duplicated {delivered['duplicates']}, not in audience"
        f" {delivered['unexpected']}) over {delivered['listeners']} listeners"
    )
    print(f"server log errors: {len(errors)}")
    for line in errors[:10]:
        print("  " + line)
    for message, count in server_warnings(out).most_common(8):
        print(f"server log warning x{count}: {message}")
    total = full.get(("", "Aggregated"), {"failures": 1, "requests": 0})
    failed = (
        total["failures"] > 0
        or delivered["missing"] > 0
        or delivered["duplicates"] > 0
        or delivered["unexpected"] > 0
        or ws["connected"] < args.listeners
        or ws["closed"] > 0
        or bool(errors)
    )
    print(f"result: {'FAIL' if failed else 'ok'} (error rate {total['failures']}/{total['requests']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
