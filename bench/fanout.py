"""Benchmark: WebSocket fan-out across processes.

    .venv/bin/python bench/fanout.py [--clients 2000] [--events 100] [--client-procs 2]

Starts two app processes as `make run` serves them (one worker each, push worker off) on one
database. N WebSocket clients, split evenly over both servers (each a staff member of one institution,
so every client hears every event), run in ``--client-procs`` separate processes (default: one per
core), so the clients' decoding is not serialised in one interpreter and each process's CPU can be
reported. Then 100 events are committed into the outbox, one every 100 ms (``--interval-ms``), from
this process. For each event and client it records the time from the commit returning to the message
arriving (CLOCK_MONOTONIC, shared by all processes).

Baseline, in the same run: a bare asyncpg connection LISTENing on ``dq_events``, the notification the
servers' hubs react to; commit-to-notification is the floor no WebSocket delivery can beat.
Prints latency p50/p99/max against that baseline, how many messages arrived (must be N x events),
the CPU each client process, each server and PostgreSQL used during the events, and the servers'
memory per connection (RSS growth while the clients connected).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import msgspec
import psutil
from common import SERVED_PIDS, add_smoke, fresh_database, parse_args, percentile, served
from websockets.asyncio.client import connect

from backend.core import pgserver
from backend.core.security import new_session_token, token_digest
from backend.institutions.rules import uscc_check_char

DB_NAME = "bench_fanout"


async def setup(url: str, clients: int) -> tuple[uuid.UUID, list[str]]:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        inst = uuid.uuid4()
        first17 = "91230602FANQT0001"
        await conn.execute(
            "INSERT INTO institutions (id, name, legal_form, registration_no, unit_code, address, lat, lng, phone,"
            " ownership, filing_status) VALUES ($1, '基准推送机构', 'for_profit', $2, 230602, '测试', 46.6, 125.1,"
            " '0459-1', 'private', 'filed')",
            inst,
            first17 + uscc_check_char(first17),
        )
        tokens, accounts, grants, sessions = [], [], [], []
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        for n in range(clients):
            account, token = uuid.uuid4(), new_session_token()
            accounts.append((account, f"staff{n}@fanout.example"))
            grants.append((account, inst))
            sessions.append((account, token_digest(token), expires))
            tokens.append(token)
        await conn.executemany("INSERT INTO accounts (id, email) VALUES ($1, $2)", accounts)
        await conn.executemany(
            "INSERT INTO role_grants (account_id, role, institution_id) VALUES ($1, 'institution_staff', $2)", grants
        )
        await conn.executemany(
            "INSERT INTO auth_sessions (account_id, token_hash, expires_at) VALUES ($1, $2, $3)", sessions
        )
        return inst, tokens
    finally:
        await conn.close()


def rss(pid: int) -> int:
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


async def client_worker(bases: list[str], tokens: list[str], events: int, out: str) -> None:
    """One client process: connect, say ``ready`` on stdout, record each event's arrival, write them to ``out``."""
    received: dict[int, list[float]] = {}
    expected, counted = len(tokens) * events, 0
    all_in = asyncio.Event()
    sockets = []
    for n, token in enumerate(tokens):
        base = bases[n % len(bases)].replace("http://", "ws://")
        ws = await connect(
            base + "/ws", additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=60, max_queue=None
        )
        sockets.append(ws)
    for ws in sockets:
        assert msgspec.json.decode(await ws.recv())["type"] == "ready"

    async def listen(ws) -> None:
        nonlocal counted
        async for raw in ws:
            message = msgspec.json.decode(raw)
            if message.get("type") == "event":
                received.setdefault(message["data"]["seq"], []).append(time.monotonic())
                counted += 1
                if counted >= expected:
                    all_in.set()

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    print("ready", flush=True)
    usage, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), timeout=60 + events)
    for task in listeners:
        task.cancel()
    now = resource.getrusage(resource.RUSAGE_SELF)
    cores = (now.ru_utime + now.ru_stime - usage.ru_utime - usage.ru_stime) / (time.monotonic() - t0)
    for ws in sockets:
        await ws.close()
    Path(out).write_bytes(msgspec.json.encode({"received": received, "cores": cores}))  # noqa: ASYNC240


def _named(pid: int, name: str) -> bool:
    try:
        return psutil.Process(pid).name() == name
    except psutil.Error:
        return False


def cpu_seconds(pids: list[int]) -> dict[int, dict[int, float]]:
    """User + system CPU of each process and of each of its children, by pid. PostgreSQL's backends
    come and go (other work on a shared server too): compare only processes present at both readings
    (``cpu_used``); one that exits while being read is skipped."""
    out: dict[int, dict[int, float]] = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            family = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue  # another server on this machine stopped: not ours to count
        out[pid] = {}
        for p in family:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                out[pid][p.pid] = sum(p.cpu_times()[:2])
    return out


def cpu_used(before: dict[int, dict[int, float]], after: dict[int, dict[int, float]]) -> dict[int, float]:
    """CPU seconds each process and its children used between two ``cpu_seconds`` readings."""
    return {
        pid: sum(after[pid][p] - before[pid][p] for p in after[pid] if p in before[pid])
        for pid in after
        if pid in before
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--interval-ms", type=float, default=100.0, help="time between two events")
    parser.add_argument("--client-procs", type=int, default=os.cpu_count() or 2, help="processes running the clients")
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    add_smoke(parser, clients=20, events=5, interval_ms=20.0, client_procs=2)
    args = parse_args(parser)
    if args.worker:  # a client process started by the benchmark
        spec = msgspec.json.decode(args.worker[0])
        await client_worker(spec["bases"], spec["tokens"], spec["events"], args.worker[1])
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))  # servers inherit it

    url = await fresh_database(DB_NAME)
    inst, tokens = await setup(url, args.clients)
    env = {"PUSH_WORKER": "false", "DB_POOL_SIZE": "20", "DB_MAX_OVERFLOW": "10", "WS_HEARTBEAT_S": "60"}
    expected = args.clients * args.events
    async with served(url, **env) as base_a, served(url, **env) as base_b:
        servers = [SERVED_PIDS[base_a], SERVED_PIDS[base_b]]
        # The postmaster(s): their backends are counted as children (and come and go).
        postgres = [
            p.pid
            for p in psutil.process_iter(["name", "ppid"])
            if p.info["name"] == "postgres" and not _named(p.info["ppid"], "postgres")
        ]
        before = {pid: rss(pid) for pid in servers}
        with tempfile.TemporaryDirectory() as tmp:
            procs, outs = [], []
            for k in range(args.client_procs):
                spec = {"bases": [base_a, base_b], "tokens": tokens[k :: args.client_procs], "events": args.events}
                outs.append(os.path.join(tmp, f"client{k}.json"))
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        __file__,
                        "--worker",
                        msgspec.json.encode(spec).decode(),
                        outs[-1],
                        stdout=asyncio.subprocess.PIPE,
                    )
                )
            for proc in procs:
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), timeout=300)
                assert line.strip() == b"ready", line
            after = {pid: rss(pid) for pid in servers}
            per_connection = sum(after[p] - before[p] for p in servers) / args.clients

            listener = await asyncpg.connect(pgserver.asyncpg_dsn(url))
            notified: list[float] = []
            await listener.add_listener("dq_events", lambda *_: notified.append(time.monotonic()))
            conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
            cpu_before, t_before = cpu_seconds([*servers, *postgres]), time.monotonic()
            committed: dict[int, float] = {}
            for seq in range(args.events):
                await conn.execute(
                    "INSERT INTO events (type, subject_type, subject_id, institution_id, payload)"
                    " VALUES ('bench.fanout', 'bench', $1, $2, $3)",
                    uuid.uuid4(),
                    inst,
                    msgspec.json.encode({"seq": seq}).decode(),
                )
                committed[seq] = time.monotonic()
                await asyncio.sleep(args.interval_ms / 1000)
            await conn.close()
            for proc in procs:
                await asyncio.wait_for(proc.wait(), timeout=120 + args.events)
            cpu_after, elapsed = cpu_seconds([*servers, *postgres]), time.monotonic() - t_before
            await listener.close()
            received: dict[int, list[float]] = {}
            clients_cpu = []
            for out in outs:
                result = msgspec.json.decode(Path(out).read_bytes())  # noqa: ASYNC240
                clients_cpu.append(result["cores"])
                for seq, times in result["received"].items():
                    received.setdefault(int(seq), []).extend(times)

    latencies = [t - committed[seq] for seq, times in received.items() for t in times]
    floor = [t - committed[seq] for seq, t in enumerate(notified) if seq in committed]
    total = sum(len(v) for v in received.values())
    p99, floor_p99 = percentile(latencies, 99), percentile(floor, 99)
    print(
        f"\n{args.clients} WebSocket clients over 2 processes, clients in {args.client_procs} processes, "
        f"{args.events} events, one per {args.interval_ms:g} ms"
    )
    print(f"messages received:       {total:,} of {expected:,}")
    print(
        f"commit-to-receipt:       p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms (aim: p99 < 250 ms)"
    )
    print(
        f"baseline (bare LISTEN):  p50 {percentile(floor, 50) * 1000:.1f} ms, p99 {floor_p99 * 1000:.1f} ms; "
        f"fan-out/baseline p99 {p99 / floor_p99:.1f}x"
    )
    busy = {pid: used / elapsed for pid, used in cpu_used(cpu_before, cpu_after).items()}
    print(
        "CPU during the events (cores): "
        + ", ".join(f"client process {k + 1} {c:.2f}" for k, c in enumerate(clients_cpu))
        + ", "
        + ", ".join(f"server {n + 1} {busy[pid]:.2f}" for n, pid in enumerate(servers))
        + f", PostgreSQL {sum(busy[pid] for pid in postgres if pid in busy):.2f}"
    )
    print(f"server memory per conn.: {per_connection / 1024:.1f} KiB (RSS growth of both servers / clients)")


if __name__ == "__main__":
    asyncio.run(main())
