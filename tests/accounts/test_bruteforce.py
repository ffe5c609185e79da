"""Brute-force limits on sign-in: password logins and SMS codes.

* N failures answer 429 with ``Retry-After``; the limits count failures (a success is refunded).
* An unknown account and a known one answer byte-identically (status, headers that matter, body), and
  an unknown account still costs one argon2 verification (of a dummy hash).
* The counters live in PostgreSQL: N parallel attempts against a real server (separate connections,
  separate transactions) never let more than the limit through.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend.accounts.models import OtpCode
from backend.core import security
from backend.core.authz import Role
from backend.core.security import hash_password
from tests.factories import random_phone

PASSWORD = "s3cret-Passw0rd"


@pytest.fixture
async def officer(factory):
    return await factory.account(
        Role.OFFICER, department="health", email="bf.officer@test.example", password_hash=hash_password(PASSWORD)
    )


@pytest.fixture
def tight_settings(app, settings):
    """Run the in-process app with other limits for one test."""

    def apply(**overrides):
        app.state.settings = dataclasses.replace(settings, **overrides)
        return app.state.settings

    yield apply
    app.state.settings = settings


async def _login(client, login: str, password: str = "wrong-password") -> httpx.Response:
    return await client.post("/api/auth/login", json={"login": login, "password": password})


async def test_n_failures_then_429_with_retry_after(client, officer, settings):
    for _ in range(settings.login_max_failures_per_hour):
        assert (await _login(client, "bf.officer@test.example")).status_code == 401
    blocked = await _login(client, "bf.officer@test.example", PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 3600
    assert blocked.json()["code"] == "rate_limited"
    assert blocked.json()["extra"]["retry_after_s"] == int(blocked.headers["retry-after"])


async def test_unknown_and_known_accounts_answer_byte_identically(client, officer, settings):
    known, unknown = "bf.officer@test.example", "nobody.here@test.example"
    for _ in range(settings.login_max_failures_per_hour):
        a, b = await _login(client, known), await _login(client, unknown)
        assert a.status_code == b.status_code == 401
        assert a.content == b.content
        assert a.headers.get("www-authenticate") == b.headers.get("www-authenticate")
    a, b = await _same_second(lambda: _login(client, known), lambda: _login(client, unknown))
    assert a.status_code == b.status_code == 429
    assert a.content == b.content


async def test_phone_logins_answer_alike_too(client, factory):
    staff = await factory.account(
        Role.INSTITUTION_STAFF,
        institution_id=(await factory.institution()).id,
        password_hash=hash_password(PASSWORD),
    )
    a, b = await _login(client, staff.phone), await _login(client, random_phone())
    assert a.status_code == b.status_code == 401 and a.content == b.content


async def _same_second(first, second) -> tuple[httpx.Response, httpx.Response]:
    """Two refusals whose Retry-After was computed in the same second (the only thing that may differ
    between them is the time that passed): retried when a second boundary fell between the two."""
    for _ in range(5):
        a, b = await first(), await second()
        if a.headers.get("retry-after") == b.headers.get("retry-after"):
            return a, b
    raise AssertionError("Retry-After kept differing")


async def test_a_disabled_account_and_a_passwordless_one_answer_like_unknown(client, factory, db):
    import datetime as dt

    parent = await factory.account(Role.PARENT)  # SMS-only: no password hash at all
    disabled = await factory.account(Role.PARENT, password_hash=hash_password(PASSWORD))
    disabled.disabled_at = dt.datetime.now(dt.UTC)
    db.add(disabled)
    await db.commit()
    answers = [
        await _login(client, parent.phone),
        await _login(client, disabled.phone, PASSWORD),  # even with the right password
        await _login(client, random_phone()),
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1


async def test_unknown_accounts_cost_one_argon2_verification(client, officer, monkeypatch):
    calls: list[str] = []
    real = security._hasher

    class Spy:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name: str):
            return getattr(real, name)

    monkeypatch.setattr(security, "_hasher", Spy())
    await _login(client, "bf.officer@test.example")
    await _login(client, "nobody.else@test.example")
    await _login(client, random_phone())
    assert len(calls) == 3
    assert calls[0] == officer.password_hash
    assert calls[1] == calls[2] == security._DUMMY_HASH
    # the same algorithm and cost as a real hash
    assert security._DUMMY_HASH.split("$")[:4] == officer.password_hash.split("$")[:4]


async def test_successful_sign_ins_do_not_count_as_failures(client, officer, settings):
    for _ in range(settings.login_max_failures_per_hour + 3):
        assert (await _login(client, "bf.officer@test.example", PASSWORD)).status_code == 200
    for _ in range(settings.login_max_failures_per_hour):
        assert (await _login(client, "bf.officer@test.example")).status_code == 401
    assert (await _login(client, "bf.officer@test.example", PASSWORD)).status_code == 429


async def test_the_client_address_limit_stops_spraying_many_logins(client, tight_settings):
    s = tight_settings(login_max_failures_per_hour=2)  # 2 per login, 10 per client address
    answers = [(await _login(client, f"spray{i}@test.example")).status_code for i in range(12)]
    assert answers == [401] * (s.login_max_failures_per_hour * 5) + [429, 429]


# ------------------------------------------------------------------------------------------ SMS codes


async def test_code_requests_answer_alike_for_known_and_unknown_numbers(client, factory):
    known = (await factory.account(Role.PARENT)).phone
    unknown = random_phone()
    a = await client.post("/api/auth/code", json={"phone": known})
    b = await client.post("/api/auth/code", json={"phone": unknown})
    assert a.status_code == b.status_code == 202 and a.content == b.content
    # Too soon again: both refused alike.
    a, b = await _same_second(
        lambda: client.post("/api/auth/code", json={"phone": known}),
        lambda: client.post("/api/auth/code", json={"phone": unknown}),
    )
    assert a.status_code == b.status_code == 429 and a.content == b.content


async def test_code_requests_per_number_per_hour(client, db, tight_settings):
    """The hourly cap per number (behind the resend gap, which a test inside one transaction cannot
    wait out: PostgreSQL's now() stands still in it). At 0 the first request is already over it."""
    tight_settings(otp_max_per_phone_per_hour=0)
    phone = random_phone()
    r = await client.post("/api/auth/code", json={"phone": phone})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 60  # the hourly window, not the 60-second resend gap
    assert (await db.execute(select(OtpCode).where(OtpCode.phone == phone))).first() is None  # nothing sent


async def test_code_requests_per_client_address(client, tight_settings):
    s = tight_settings(otp_max_per_client_per_hour=4)
    answers = [(await client.post("/api/auth/code", json={"phone": random_phone()})).status_code for _ in range(6)]
    assert answers == [202] * s.otp_max_per_client_per_hour + [429, 429]


async def test_wrong_codes_answer_alike_with_or_without_an_account_and_a_live_code(client, factory):
    known = (await factory.account(Role.PARENT)).phone
    with_code = random_phone()
    await client.post("/api/auth/code", json={"phone": known})
    await client.post("/api/auth/code", json={"phone": with_code})
    answers = [
        await client.post("/api/auth/code/verify", json={"phone": phone, "code": "000000"})
        for phone in (known, with_code, random_phone())
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1


async def test_code_guesses_per_client_address_are_limited(client, tight_settings):
    s = tight_settings(otp_max_per_client_per_hour=2, otp_max_attempts=2)  # 4 guesses per client per hour
    limit = s.otp_max_per_client_per_hour * s.otp_max_attempts
    answers = [
        (await client.post("/api/auth/code/verify", json={"phone": random_phone(), "code": "123456"})).status_code
        for _ in range(limit + 2)
    ]
    assert answers == [401] * limit + [429, 429]


# ---------------------------------------------------------------------------- concurrency, real server


@pytest.mark.server
def test_parallel_guesses_never_pass_the_limit(server_url: str, tmp_path: Path) -> None:
    """40 wrong passwords at once against a real server with a limit of 10: exactly 10 are checked
    (401), 30 refused (429) — the counter is one row updated under PostgreSQL's row lock."""
    from tests.live import live_server, scratch_database

    with (
        scratch_database(server_url, demo=False) as url,
        live_server(
            url,
            tmp_path,
            LOGIN_MAX_FAILURES_PER_HOUR="10",
            DB_POOL_SIZE="20",
            DB_MAX_OVERFLOW="30",
            DB_POOL_TIMEOUT_S="60",
        ) as server,
    ):

        async def attack() -> list[int]:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
                answers = await asyncio.gather(
                    *(
                        http.post("/api/auth/login", json={"login": "victim@test.example", "password": f"guess-{i}"})
                        for i in range(40)
                    )
                )
            return sorted(r.status_code for r in answers)

        statuses = asyncio.run(attack())
        assert statuses == [401] * 10 + [429] * 30
