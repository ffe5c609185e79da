"""Web Push end to end: a push service inside the test suite checks the VAPID JWT and decrypts the
aes128gcm body; 410 removes the subscription; 503 is retried; a worker killed mid-send loses nothing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
import httpx
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.core.authz import Role
from backend.realtime.models import PushDelivery
from tests.live import free_port, live_server, scratch_database
from tests.realtime.test_live_updates import auth, book
from tests.world import World


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def keys(self) -> dict[str, str]:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(point), "auth": b64url(self.auth_secret)}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        return json.loads(
            http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm")
        )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class PushService:
    """A push service on 127.0.0.1: ``/push/<name>`` answers per ``behaviour[name]``:
    an int status, or "hang-once" (the first request never gets an answer, later ones 201)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviour: dict[str, Any] = {}
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self._hung: set[str] = set()
        self.hanging = asyncio.Event()
        self.arrived = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(name, headers, await request.read(), time.monotonic()))
        async with self.arrived:
            self.arrived.notify_all()
        behaviour = self.behaviour.get(name, 201)
        if behaviour == "hang-once" and name not in self._hung:
            self._hung.add(name)
            self.hanging.set()
            await asyncio.Event().wait()  # never answers; the test kills the sender
        if isinstance(behaviour, list):  # a script of statuses, then 201
            status = behaviour.pop(0) if behaviour else 201
            return web.Response(status=status, headers={"Retry-After": "1"} if status in (429, 503) else {})
        return web.Response(status=behaviour if isinstance(behaviour, int) else 201)

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    async def wait_for(self, name: str, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """The requests to ``/push/<name>`` once there are at least ``count`` of them."""

        def enough() -> bool:
            return len([r for r in self.received if r.path == name]) >= count

        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(enough), timeout=timeout)
        return [r for r in self.received if r.path == name]


@pytest.fixture
async def push_service():
    service = PushService()
    app = web.Application()
    app.router.add_post("/push/{name}", service.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", service.port).start()
    try:
        yield service
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner.cleanup(), timeout=5)


def verify_vapid(headers: dict[str, str], audience: str, server_key: str) -> dict[str, Any]:
    """Check the VAPID JWT as a push service does: ES256 by the key in k=, aud, exp within 24 h."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == server_key
    header_b64, claims_b64, signature_b64 = fields["t"].split(".")
    assert json.loads(unb64url(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    signature = unb64url(signature_b64)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    public.verify(
        encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")),
        f"{header_b64}.{claims_b64}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"].startswith("mailto:")
    return claims


@pytest.fixture(scope="module")
def database(server_url):
    with scratch_database(server_url, demo=False) as url:
        yield url


def push_env(service: PushService) -> dict[str, str]:
    return {
        "PUSH_ENDPOINT_ALLOWLIST": f"127.0.0.1:{service.port}",
        "PUSH_POLL_INTERVAL_S": "0.2",
        "PUSH_LEASE_S": "2",
        "PUSH_TIMEOUT_S": "60",
    }


async def subscribe(server, token: str, endpoint: str, browser: Browser) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.post(
            "/api/push/subscriptions", headers=auth(token), json={"endpoint": endpoint, "keys": browser.keys()}
        )
        assert r.status_code == 201, r.text


async def deliveries(url: str) -> int:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(PushDelivery)))
    finally:
        await engine.dispose()


async def test_a_push_is_signed_encrypted_and_names_no_child(database, push_service, tmp_path):
    with live_server(database, tmp_path, **push_env(push_service)) as server:
        world = await World(database).build()
        _, child, token = await world.family()
        browser = Browser()
        await subscribe(server, token, push_service.endpoint("ok"), browser)
        booking = await book(server, world, child, token, 9)
        (request,) = await push_service.wait_for("ok")
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            server_key = (await http.get("/api/push/vapid-public-key")).json()["public_key"]
        verify_vapid(request.headers, push_service.origin, server_key)
        assert int(request.headers["ttl"]) == 24 * 3600
        assert request.headers["urgency"] == "normal"
        assert request.headers["content-encoding"] == "aes128gcm"
        payload = browser.decrypt(request.body)
        assert payload["event"] == "booking.booked"
        assert payload["url"] == f"/bookings/{booking['id']}"
        assert payload["title"] == "托育预约：已预约"
        assert len(request.body) < 4096 and "实时宝宝" not in json.dumps(payload, ensure_ascii=False)
        assert await deliveries(database) == 0


async def test_gone_subscriptions_are_removed_and_failures_retried(database, push_service, tmp_path):
    push_service.behaviour = {"gone": 410, "flaky": [503, 503]}
    with live_server(database, tmp_path, **push_env(push_service)) as server:
        world = await World(database).build()
        _, child, token = await world.family()
        await subscribe(server, token, push_service.endpoint("gone"), Browser())
        flaky = Browser()
        await subscribe(server, token, push_service.endpoint("flaky"), flaky)
        await book(server, world, child, token, 10)
        await push_service.wait_for("gone")
        attempts = await push_service.wait_for("flaky", count=3, timeout=20)
        assert attempts[1].at - attempts[0].at >= 0.8  # Retry-After: 1 was honoured
        assert flaky.decrypt(attempts[-1].body)["event"] == "booking.booked"
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            for _ in range(50):
                endpoints = [
                    s["endpoint"] for s in (await http.get("/api/push/subscriptions", headers=auth(token))).json()
                ]
                if push_service.endpoint("gone") not in endpoints:
                    break
                await asyncio.sleep(0.1)
        assert endpoints == [push_service.endpoint("flaky")]


async def test_a_worker_killed_mid_send_loses_nothing(database, push_service, tmp_path):
    push_service.behaviour = {"slow": "hang-once"}
    with live_server(database, tmp_path, **push_env(push_service)) as first:
        world = await World(database).build()
        _, child, token = await world.family()
        browser = Browser()
        await subscribe(first, token, push_service.endpoint("slow"), browser)
        booking = await book(first, world, child, token, 11)
        await asyncio.wait_for(push_service.hanging.wait(), timeout=15)
        first.process.send_signal(signal.SIGKILL)  # dies holding the delivery's lease
        first.process.wait()
    with live_server(database, tmp_path, **push_env(push_service)):
        sends = await push_service.wait_for("slow", count=2, timeout=20)
        payload = browser.decrypt(sends[-1].body)
        assert payload["url"] == f"/bookings/{booking['id']}"
        assert browser.decrypt(sends[0].body)["id"] == payload["id"]  # the same event, sent again
        for _ in range(50):
            if await deliveries(database) == 0:
                break
            await asyncio.sleep(0.1)
        assert await deliveries(database) == 0


async def test_subscriptions_are_validated(client, factory):
    _, headers = await factory.signed_in(Role.PARENT)
    keys = Browser().keys()
    cases = [
        ("http://push.example.com/x", 422, "endpoint_not_https"),
        ("https://127.0.0.1/x", 422, "endpoint_not_public"),
        ("https://10.1.2.3/x", 422, "endpoint_not_public"),
        ("https://localhost/x", 422, "endpoint_not_public"),
        # found as an attacker: loopback in disguise (legacy IPv4 forms every resolver reads)
        ("https://0x7f000001/x", 422, "endpoint_not_public"),
        ("https://2130706433/x", 422, "endpoint_not_public"),
        ("https://127.1/x", 422, "endpoint_not_public"),
        ("https://0177.0.0.1/x", 422, "endpoint_not_public"),
        ("https://0x0a.1/x", 422, "endpoint_not_public"),
        ("https://169.254.169.254/x", 422, "endpoint_not_public"),
        ("https://localhost./x", 422, "endpoint_not_public"),
        ("https://push.localhost/x", 422, "endpoint_not_public"),
        ("https://push.example.com:89115/x", 422, "endpoint_invalid"),  # port out of range
        ("https://[::1]/x", 400, "validation_error"),  # IP literals in brackets do not fit the URL pattern
        ("ftp://push.example.com/x", 400, "validation_error"),
    ]
    for endpoint, status, code in cases:
        r = await client.post("/api/push/subscriptions", headers=headers, json={"endpoint": endpoint, "keys": keys})
        assert (r.status_code, r.json()["code"]) == (status, code), endpoint
    bad_keys = await client.post(
        "/api/push/subscriptions",
        headers=headers,
        json={"endpoint": "https://push.example.com/x", "keys": {"p256dh": "x", "auth": "y"}},
    )
    assert bad_keys.status_code == 400
    ok = await client.post(
        "/api/push/subscriptions", headers=headers, json={"endpoint": "https://push.example.com/ok", "keys": keys}
    )
    assert ok.status_code == 201
    assert [s["endpoint"] for s in (await client.get("/api/push/subscriptions", headers=headers)).json()] == [
        "https://push.example.com/ok"
    ]
    gone = await client.post("/api/push/unsubscribe", headers=headers, json={"endpoint": "https://push.example.com/ok"})
    assert gone.status_code == 204
    assert (
        await client.post("/api/push/unsubscribe", headers=headers, json={"endpoint": "https://push.example.com/ok"})
    ).status_code == 404
    assert (
        await client.post("/api/push/subscriptions", json={"endpoint": "https://push.example.com/ok", "keys": keys})
    ).status_code == 401


async def test_the_vapid_public_key_is_a_p256_point(client):
    key = (await client.get("/api/push/vapid-public-key")).json()["public_key"]
    raw = unb64url(key)
    assert len(raw) == 65 and raw[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


async def test_preferences_per_category(client, factory):
    _, headers = await factory.signed_in(Role.PARENT)
    prefs = (await client.get("/api/me/notification-preferences", headers=headers)).json()["preferences"]
    assert {p["category"] for p in prefs} == {"enrolment", "bookings", "notices", "complaints"}
    assert all(p["websocket"] and p["push"] for p in prefs)
    r = await client.put(
        "/api/me/notification-preferences",
        headers=headers,
        json={"preferences": [{"category": "notices", "websocket": True, "push": False}]},
    )
    assert {p["category"]: p["push"] for p in r.json()["preferences"]}["notices"] is False
    bad = await client.put(
        "/api/me/notification-preferences",
        headers=headers,
        json={"preferences": [{"category": "weather", "websocket": True, "push": False}]},
    )
    assert bad.status_code == 400
    dup = await client.put(
        "/api/me/notification-preferences",
        headers=headers,
        json={"preferences": [{"category": "notices", "websocket": True, "push": False}] * 2},
    )
    assert dup.status_code == 422


async def test_names_are_resolved_and_private_answers_refused():
    from backend.realtime.egress import ip_of, resolves_private

    assert str(ip_of("0x7f000001")) == str(ip_of("2130706433")) == str(ip_of("127.1")) == "127.0.0.1"
    assert ip_of("push.example.com") is None and ip_of("1e100.net") is None
    assert await resolves_private("localhost", 443) is True
    assert await resolves_private("no-such-host.invalid", 443) is None  # kept; checked at connect time


async def test_the_worker_connects_only_to_public_addresses_it_resolved_itself():
    """DNS rebinding: a name that answers a public address at subscribe and a private one at send.
    The worker's connector resolves for itself and drops every private answer, so the connection
    cannot reach one; an allowlisted host (tests) still connects."""
    import aiohttp

    from backend.realtime.egress import public_connector

    received: list[str] = []

    async def hello(request: web.Request) -> web.Response:
        received.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/x", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession(connector=public_connector(())) as http:
            with pytest.raises(aiohttp.ClientConnectorError) as refused:
                await http.get(f"http://localhost:{port}/x")
            assert "no public address" in str(refused.value.os_error)
        async with aiohttp.ClientSession(connector=public_connector((f"localhost:{port}",))) as http:
            assert (await http.get(f"http://localhost:{port}/x")).status == 200
        assert received == ["/x"]
    finally:
        await runner.cleanup()
