"""Shared pieces of the notification tests: live servers wired to the local SMS gateway and push
service, urgent notices, and waiting on the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.realtime.test_live_updates import auth


def app_env(gateway: Any, push: Any = None, backend: str = "tencent", **extra: str) -> dict[str, str]:
    env = {
        **gateway.env(backend),
        "SMS_FALLBACK_AFTER": "3",
        "NOTIFY_POLL_INTERVAL_S": "0.1",
        "NOTIFY_QUIET_HOURS": "off",
        "SMS_RETRY_BASE_S": "0.2",
        "SMS_LEASE_S": "5",
        "MAINTENANCE_INTERVAL_S": "0",
    }
    if push is not None:
        env |= {
            "PUSH_ENDPOINT_ALLOWLIST": f"127.0.0.1:{push.port}",
            "PUSH_POLL_INTERVAL_S": "0.1",
            "PUSH_LEASE_S": "2",
            "PUSH_TIMEOUT_S": "30",
        }
    return env | extra


async def rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def phone_of(url: str, account_id: uuid.UUID) -> str:
    ((phone,),) = await rows(url, "SELECT phone FROM accounts WHERE id = :a", a=account_id)
    return str(phone)


async def wait_until(check: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check()`` (async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def sms_rows(url: str) -> list[Any]:
    return await rows(
        url,
        "SELECT d.account_id, d.status, d.detail, d.attempts, d.link_token, e.id AS event_id, a.phone"
        " FROM notify_deliveries d JOIN events e ON e.id = d.event_id JOIN accounts a ON a.id = d.account_id"
        " WHERE d.channel = 'sms' ORDER BY d.id",
    )


async def all_sms_decided(url: str, expected: int) -> list[Any] | None:
    found = await sms_rows(url)
    if len(found) >= expected and all(r.status not in ("waiting", "queued", "sending") for r in found):
        return found
    return None


async def urgent_notice(server: Any, world: Any, title: str = "园所今日停水") -> str:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.post(
            f"/api/institutions/{world.inst}/notices",
            headers=auth(world.staff),
            json={"title": title, "body": "请家长留意。", "urgent": True},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def beijing_window_around_now() -> str:
    """Quiet hours (Beijing time) that hold now: from an hour ago to an hour ahead."""
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}"
