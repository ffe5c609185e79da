"""Benchmark: one urgent notice to the guardians of 2,000 children, half of them without push.

    .venv/bin/python bench/urgent.py [--children 2000] [--qps 200] [--processes 2] [--smoke]

Sets up an institution whose 2,000 enrolled children have one guardian each; half the guardians
have a Web Push subscription on a local push service that plays the phone's service worker (it
decrypts each push and posts the acknowledgement its payload carries, as ``pwa/src/sw.ts`` does).
App processes are started as `make run` serves them, with the Tencent SMS SDK pointed at the local
gateway of the tests (``tests/smsgateway.py``: it verifies each request's TC3 signature and counts).
A staff member publishes one urgent notice through the API; the clock runs until every delivery is
decided (each push acknowledged, each SMS sent). Prints:

* the time until every delivery was decided, and the SMS phase's part of it;
* the SMS rate: the most requests the gateway saw in any one-second window, against SMS_MAX_QPS and
  the provider's documented limit (Tencent Cloud SendSms: 3,000 requests per second);
* the SMS count, which must equal the guardians without an acknowledged push;
* the same-run baseline — the same number of SMS sent straight through the SDK at the same rate,
  without the pipeline (no database, no claims) — and the pipeline's ratio to it.

``--smoke``: 40 children, one process, a few seconds (``make bench-smoke``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
import time
import uuid

import aiohttp
import asyncpg
import http_ece
from aiohttp import web
from common import ROOT, free_port, fresh_database, served
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core import crypto, pgserver
from backend.core.clock import local_today
from backend.core.notify_settings import NotifySettings
from backend.core.security import new_session_token, token_digest
from backend.families.schemas import CHILD_DATA_POLICY_VERSION
from backend.institutions.rules import uscc_check_char
from backend.notify.gateways import TencentSms

sys.path.insert(0, str(ROOT))
from tests.smsgateway import sms_gateway

DB_NAME = "bench_urgent"
PROVIDER_QPS_LIMIT = 3000  # Tencent Cloud SMS SendSms: default request rate limit, requests per second
CLASS_SIZE = 15


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclasses.dataclass
class Phone:
    """A subscribed phone: its push keys (to decrypt, as the browser does)."""

    key: ec.EllipticCurvePrivateKey
    auth: bytes

    def keys(self) -> tuple[str, str]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point), b64url(self.auth)


async def setup(url: str, children: int, push_port: int) -> tuple[uuid.UUID, str, dict[str, Phone]]:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        inst = uuid.uuid4()
        first17 = "91230602URGNT0001"
        await conn.execute(
            "INSERT INTO institutions (id, name, legal_form, registration_no, unit_code, address, lat, lng, phone,"
            " ownership, opening_hours, filing_status, filed_at) VALUES ($1, '基准紧急通知机构', 'for_profit', $2,"
            " 230602, '测试', 46.6, 125.1, '0459-1', 'private',"
            ' \'[{"days": [1,2,3,4,5,6,7], "opens": "07:00", "closes": "19:00"}]\', \'filed\', now())',
            inst,
            first17 + uscc_check_char(first17),
        )
        staff, staff_token = uuid.uuid4(), new_session_token()
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        await conn.execute("INSERT INTO accounts (id, phone) VALUES ($1, '13800000000')", staff)
        await conn.execute(
            "INSERT INTO role_grants (account_id, role, institution_id) VALUES ($1, 'institution_staff', $2)",
            staff,
            inst,
        )
        await conn.execute(
            "INSERT INTO auth_sessions (account_id, token_hash, expires_at) VALUES ($1, $2, $3)",
            staff,
            token_digest(staff_token),
            expires,
        )
        keys = crypto.current()
        birth = local_today() - dt.timedelta(days=500)
        phones: dict[str, Phone] = {}
        classes = [uuid.uuid4() for _ in range((children + CLASS_SIZE - 1) // CLASS_SIZE)]
        await conn.executemany(
            "INSERT INTO classes (id, institution_id, name, class_type, capacity, carers)"
            " VALUES ($1, $2, $3, 'toddler', $4, 3)",
            [(c, inst, f"班级{i}", CLASS_SIZE) for i, c in enumerate(classes)],
        )
        accounts, kids, subs = [], [], []
        for n in range(children):
            account, child = uuid.uuid4(), uuid.uuid4()
            accounts.append((account, f"139{n:08d}"))
            kids.append((child, account, classes[n // CLASS_SIZE]))
            if n % 2 == 0:  # half the guardians have push
                phone = Phone(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
                name = f"p{n}"
                phones[name] = phone
                p256dh, auth = phone.keys()
                subs.append((account, f"http://127.0.0.1:{push_port}/push/{name}", p256dh, auth))
        await conn.executemany("INSERT INTO accounts (id, phone) VALUES ($1, $2)", accounts)
        await conn.executemany(
            "INSERT INTO role_grants (account_id, role) VALUES ($1, 'parent')", [(a,) for a, _ in accounts]
        )
        async with conn.transaction():  # children's data is stored only with a guardian's consent (checked at commit)
            await conn.executemany(
                "INSERT INTO children (id, name, birth_date) VALUES ($1, $2, $3)",
                [
                    (
                        c,
                        keys.encrypt("children.name", "基准宝宝".encode()),
                        keys.encrypt("children.birth_date", birth.isoformat().encode()),
                    )
                    for c, _, _ in kids
                ],
            )
            await conn.executemany(
                "INSERT INTO guardianships (child_id, account_id, relation) VALUES ($1, $2, 'mother')",
                [(c, a) for c, a, _ in kids],
            )
            await conn.executemany(
                "INSERT INTO guardian_consents (account_id, child_id, policy_version) VALUES ($1, $2, $3)",
                [(a, c, CHILD_DATA_POLICY_VERSION) for c, a, _ in kids],
            )
        await conn.executemany(
            "INSERT INTO applications (child_id, applicant_id, institution_id, class_id, mode, start_date, status)"
            " VALUES ($1, $2, $3, $4, 'full_day', $5, 'enrolled')",
            [(c, a, inst, k, local_today()) for c, a, k in kids],
        )
        await conn.executemany(
            "INSERT INTO push_subscriptions (account_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)", subs
        )
        return inst, staff_token, phones
    finally:
        await conn.close()


class PushService:
    """Plays the push service and each phone's service worker: decrypt, then acknowledge."""

    def __init__(self, phones: dict[str, Phone], app_base: list[str]) -> None:
        self.phones = phones
        self.app_base = app_base
        self.acked = 0
        self.retried = 0
        self.http: aiohttp.ClientSession | None = None
        # Phones acknowledge as they receive, not all in one instant: at most this many at once,
        # spread over the app processes (a phone's report that fails is tried again, as sw.ts does).
        self.in_flight = asyncio.Semaphore(16)

    async def handle(self, request: web.Request) -> web.Response:
        phone = self.phones[request.match_info["name"]]
        body = await request.read()
        payload = json.loads(http_ece.decrypt(body, private_key=phone.key, auth_secret=phone.auth, version="aes128gcm"))
        asyncio.get_running_loop().create_task(self._ack(payload["ack"]))
        return web.Response(status=201)

    async def _ack(self, token: str) -> None:
        assert self.http is not None
        for attempt in range(4):
            base = self.app_base[(self.acked + attempt) % len(self.app_base)]
            try:
                async with self.in_flight, self.http.post(base + "/api/notify/ack", json={"token": token}) as r:
                    if r.status == 200:
                        self.acked += 1
                        return
            except aiohttp.ClientError:
                pass  # a reset connection: the phone tries again, as sw.ts does
            self.retried += 1
            await asyncio.sleep(0.5 * 2**attempt)


async def decided(url: str, with_push: int, without_push: int) -> tuple[bool, int]:
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE channel = 'sms' AND status IN ('sent', 'failed')) AS sms_done,"
            " count(*) FILTER (WHERE channel = 'sms' AND status IN ('waiting', 'queued', 'sending')) AS sms_open,"
            " count(*) FILTER (WHERE channel = 'push' AND status = 'acknowledged') AS acked"
            " FROM notify_deliveries"
        )
        return row["sms_done"] >= without_push and row["sms_open"] == 0 and row["acked"] >= with_push, row["sms_done"]
    finally:
        await conn.close()


async def baseline(gateway, count: int, qps: int) -> float:
    """The same number of SMS straight through the SDK at the same rate: no database, no claims."""
    env = gateway.env("tencent")
    settings = dataclasses.replace(
        NotifySettings(),
        sms_backend="tencent",
        sms_endpoint=env["SMS_ENDPOINT"],
        sms_secret_id=env["SMS_SECRET_ID"],
        sms_secret_key=env["SMS_SECRET_KEY"],
        sms_sdk_app_id=env["SMS_SDK_APP_ID"],
        sms_sign_name=env["SMS_SIGN_NAME"],
        sms_template_sign_in=env["SMS_TEMPLATE_SIGN_IN"],
        sms_template_urgent=env["SMS_TEMPLATE_URGENT"],
        sms_region="ap-guangzhou",
    )
    sender = TencentSms(settings)
    start = time.monotonic()
    try:  # evenly paced at ``qps``: the best any sender can do under the same limit
        tasks = []
        due = start
        for n in range(count):
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic()) + 1 / qps  # never catch up in a burst: that would break the limit
            tasks.append(asyncio.create_task(sender.send_notice(f"137{n:08d}", "紧急通知", "https://x/n/baseline")))
        await asyncio.gather(*tasks)
    finally:
        await sender.close()
    return time.monotonic() - start


async def main(args: argparse.Namespace) -> None:
    url = await fresh_database(DB_NAME)
    push_port = free_port()
    inst, staff_token, phones = await setup(url, args.children, push_port)
    with_push, without_push = len(phones), args.children - len(phones)
    bases: list[str] = []
    pushes = PushService(phones, bases)
    app = web.Application()
    app.router.add_post("/push/{name}", pushes.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", push_port).start()
    async with sms_gateway() as gateway, aiohttp.ClientSession() as http:
        pushes.http = http
        env = {
            **gateway.env("tencent"),
            "SMS_MAX_QPS": str(args.qps),
            "SMS_DAILY_BUDGET": str(args.children * 2),
            "SMS_FALLBACK_AFTER": str(args.fallback),
            "NOTIFY_QUIET_HOURS": "off",
            "NOTIFY_POLL_INTERVAL_S": "0.2",
            "PUSH_ENDPOINT_ALLOWLIST": f"127.0.0.1:{push_port}",
            "PUSH_POLL_INTERVAL_S": "0.2",
            "MAINTENANCE_INTERVAL_S": "0",
            "DB_POOL_SIZE": "20",
        }
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(args.processes):
                bases.append(await stack.enter_async_context(served(url, **env)))
            start = time.monotonic()
            async with http.post(
                f"{bases[-1]}/api/institutions/{inst}/notices",
                headers={"Authorization": f"Bearer {staff_token}"},
                json={"title": "园所今日停水，请提前接孩子", "body": "基准测试", "urgent": True},
            ) as r:
                assert r.status == 201, await r.text()
            first_sms = None
            while True:
                done, sms_done = await decided(url, with_push, without_push)
                if first_sms is None and sms_done:
                    first_sms = time.monotonic()
                if done:
                    break
                if time.monotonic() - start > args.timeout:
                    raise SystemExit(f"not decided within {args.timeout}s ({sms_done} SMS decided)")
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - start
        sms_received = [r for r in gateway.received if r.phone.startswith("139")]
        sms_span = (max(r.at for r in sms_received) - min(r.at for r in sms_received)) if sms_received else 0.0
        rate = gateway.max_per_second()
        gateway.received.clear()
        base = await baseline(gateway, len(sms_received), args.qps)
        base_rate = gateway.max_per_second()
    await runner.cleanup()
    print(f"{args.children} children, {with_push} guardians with push (all acknowledge), {without_push} without;")
    print(f"{args.processes} app process(es), SMS_MAX_QPS={args.qps}, SMS_FALLBACK_AFTER={args.fallback}s")
    print(f"every delivery decided in:   {elapsed:.2f} s")
    print(f"  SMS phase (first..last):   {sms_span:.2f} s for {len(sms_received)} SMS")
    print(f"SMS rate, max in any 1 s:    {rate} (SMS_MAX_QPS {args.qps}; provider limit {PROVIDER_QPS_LIMIT}/s)")
    print(f"SMS sent:                    {len(sms_received)} (guardians without acknowledged push: {without_push})")
    print(f"pushes acknowledged:         {pushes.acked} of {with_push} ({pushes.retried} reports tried again)")
    print(f"bad signatures at gateway:   {gateway.bad_signatures}")
    print(f"baseline (SDK alone, same rate): {base:.2f} s for {len(sms_received)} SMS, max {base_rate} in 1 s")
    print(f"ratio SMS phase / baseline:  {sms_span / base:.2f}" if base else "ratio: n/a")
    ok = len(sms_received) == without_push and rate <= args.qps <= PROVIDER_QPS_LIMIT and gateway.bad_signatures == 0
    if not ok:
        raise SystemExit("FAILED: the SMS count or rate is wrong")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--qps", type=int, default=200, help="SMS_MAX_QPS for the run")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--fallback", type=float, default=30.0, help="SMS_FALLBACK_AFTER (s)")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--smoke", action="store_true", help="a tiny fast run (make bench-smoke)")
    args = parser.parse_args()
    if args.smoke:
        args.children, args.qps, args.processes, args.timeout = 40, 20, 1, 60.0
    asyncio.run(main(args))
