"""Benchmark: WebSocket fan-out across processes.

    .venv/bin/python bench/fanout.py [--clients 2000] [--events 100]

Starts two app processes as `make run` serves them (one worker each, push worker off) on one
database, connects N WebSocket clients split evenly over them (each a staff member of one
institution, so every client hears every event), then commits 100 events into the outbox, one
every 100 ms (``--interval-ms``), from this process. For each event and client it records the time from the commit
returning to the message arriving. Prints latency p50/p99/max, how many messages arrived (must be
N x events) and the servers' memory per connection (RSS growth while the clients connected).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import resource
import time
import uuid

import asyncpg
import msgspec
import psutil
from common import add_smoke, fresh_database, parse_args, percentile, served
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--interval-ms", type=float, default=100.0, help="time between two events")
    add_smoke(parser, clients=20, events=5, interval_ms=20.0)
    args = parse_args(parser)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))  # servers inherit it

    url = await fresh_database(DB_NAME)
    inst, tokens = await setup(url, args.clients)
    env = {"PUSH_WORKER": "false", "DB_POOL_SIZE": "20", "DB_MAX_OVERFLOW": "10", "WS_HEARTBEAT_S": "60"}
    received: dict[int, list[float]] = {}
    expected = args.clients * args.events
    counted = 0
    all_in = asyncio.Event()
    async with served(url, **env) as base_a, served(url, **env) as base_b:
        pids = [
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and "backend" in p.info["cmdline"] and "serve" in p.info["cmdline"]
        ]
        before = {pid: rss(pid) for pid in pids}
        sockets = []
        for n, token in enumerate(tokens):
            base = (base_a, base_b)[n % 2].replace("http://", "ws://")
            sockets.append(
                await connect(
                    base + "/ws",
                    additional_headers={"Authorization": f"Bearer {token}"},
                    open_timeout=30,
                    max_queue=None,
                )
            )
        for ws in sockets:
            assert msgspec.json.decode(await ws.recv())["type"] == "ready"
        after = {pid: rss(pid) for pid in pids}
        per_connection = sum(after[p] - before[p] for p in pids) / len(sockets)

        async def listen(ws) -> None:
            async for raw in ws:
                message = msgspec.json.decode(raw)
                if message.get("type") == "event":
                    received.setdefault(message["data"]["seq"], []).append(time.perf_counter())
                    nonlocal counted
                    counted += 1
                    if counted >= expected:
                        all_in.set()

        listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
        conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
        committed: dict[int, float] = {}
        for seq in range(args.events):
            await conn.execute(
                "INSERT INTO events (type, subject_type, subject_id, institution_id, payload)"
                " VALUES ('bench.fanout', 'bench', $1, $2, $3)",
                uuid.uuid4(),
                inst,
                msgspec.json.encode({"seq": seq}).decode(),
            )
            committed[seq] = time.perf_counter()
            await asyncio.sleep(args.interval_ms / 1000)
        await conn.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), timeout=30)
        for task in listeners:
            task.cancel()
        for ws in sockets:
            await ws.close()

    latencies = [t - committed[seq] for seq, times in received.items() for t in times]
    total = sum(len(v) for v in received.values())
    print(f"\n{args.clients} WebSocket clients over 2 processes, {args.events} events, one per {args.interval_ms:g} ms")
    print(f"messages received:       {total:,} of {args.clients * args.events:,}")
    print(
        f"commit-to-receipt:       p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms (aim: p99 < 250 ms)"
    )
    print(f"server memory per conn.: {per_connection / 1024:.1f} KiB (RSS growth of both servers / clients)")


if __name__ == "__main__":
    asyncio.run(main())
