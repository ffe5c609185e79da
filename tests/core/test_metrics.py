"""/metrics (issue 19 §4): who may read it, and that each family counts what it says."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from backend.core import maintenance, metrics, ratelimit
from backend.core.errors import RateLimited
from tests.conftest import TEST_SECRET

TOKEN = "m" * 40


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when it is absent)."""
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def scrape(app: Any, *, client: str = "127.0.0.1", **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(client, 40000)), base_url="http://127.0.0.1:8000"
    ) as http:
        return await http.get("/metrics", headers=headers)


async def test_metrics_are_for_allowed_addresses_or_the_token(app) -> None:
    ok = await scrape(app)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "dq_http_requests_total" in ok.text and "dq_db_pool_in_use" in ok.text
    outside = await scrape(app, client="203.0.113.50")
    assert outside.status_code == 404 and "dq_" not in outside.text
    # The token opens it from anywhere, once configured (the session app has none: no token works).
    assert (await scrape(app, client="203.0.113.50", authorization=f"Bearer {TOKEN}")).status_code == 404
    settings = app.state.settings
    object.__setattr__(settings, "metrics_token", TOKEN)
    try:
        assert (await scrape(app, client="203.0.113.50", authorization=f"Bearer {TOKEN}")).status_code == 200
        assert (await scrape(app, client="203.0.113.50", authorization="Bearer wrong")).status_code == 404
        assert (await scrape(app, client="203.0.113.50", authorization=TOKEN)).status_code == 404
    finally:
        object.__setattr__(settings, "metrics_token", "")


async def test_requests_are_counted_by_route_template_status_and_latency(app, client) -> None:
    before = (await scrape(app)).text
    route = "/api/institutions/{institution_id}"
    for _ in range(3):
        r = await client.get(f"/api/institutions/{uuid.uuid4()}")
        assert r.status_code == 404
    await client.get("/no/such/path/at/all")
    after = (await scrape(app)).text
    counted = sample(after, "dq_http_requests_total", method="GET", route=route, status="404")
    assert counted - sample(before, "dq_http_requests_total", method="GET", route=route, status="404") == 3
    timed = sample(after, "dq_http_request_duration_seconds_count", method="GET", route=route)
    assert timed - sample(before, "dq_http_request_duration_seconds_count", method="GET", route=route) == 3
    # A path no API route matches falls to the web app's files: counted under their template.
    files = sample(after, "dq_http_requests_total", method="GET", route="/{file_path}", status="404")
    assert files - sample(before, "dq_http_requests_total", method="GET", route="/{file_path}", status="404") == 1
    assert "/no/such/path" not in after and "institutions/" + "0" not in after  # templates, never paths


async def test_rate_limit_refusals_are_counted_by_limit_name_only(app, db) -> None:
    before = (await scrape(app)).text
    key = "otp-phone:13912345678"
    await ratelimit.enforce(db, TEST_SECRET, key, limit=1, window_s=3600)
    with pytest.raises(RateLimited):
        await ratelimit.enforce(db, TEST_SECRET, key, limit=1, window_s=3600)
    after = (await scrape(app)).text
    assert (
        sample(after, "dq_rate_limit_refusals_total", limit="otp-phone")
        - sample(before, "dq_rate_limit_refusals_total", limit="otp-phone")
        == 1
    )
    assert "13912345678" not in after


async def test_delivery_outcomes_have_a_small_api_for_every_channel(app) -> None:
    before = (await scrape(app)).text
    metrics.delivery_outcome("sms", "sent")
    metrics.delivery_outcome("sms", "sent")
    metrics.delivery_outcome("wechat", "failed")
    after = (await scrape(app)).text
    assert (
        sample(after, "dq_delivery_outcomes_total", channel="sms", outcome="sent")
        - sample(before, "dq_delivery_outcomes_total", channel="sms", outcome="sent")
        == 2
    )
    assert sample(after, "dq_delivery_outcomes_total", channel="wechat", outcome="failed") >= 1


async def test_maintenance_runs_and_failures_are_counted_per_job(app, db, settings) -> None:
    async def broken(_db: Any, _settings: Any) -> int:
        raise RuntimeError("boom")

    before = (await scrape(app)).text
    maintenance.JOBS["test_broken"] = broken
    try:
        with pytest.raises(RuntimeError):
            await maintenance.run_once(db, settings)
    finally:
        del maintenance.JOBS["test_broken"]
    await db.rollback()
    assert await maintenance.run_once(db, settings) is not None
    after = (await scrape(app)).text
    delta = lambda name, job: sample(after, name, job=job) - sample(before, name, job=job)  # noqa: E731
    assert delta("dq_maintenance_job_runs_total", "test_broken") == 1
    assert delta("dq_maintenance_job_failures_total", "test_broken") == 1
    assert delta("dq_maintenance_job_runs_total", "rate_limit_counters") == 2  # ran before, and again after
    assert delta("dq_maintenance_job_failures_total", "rate_limit_counters") == 0


async def test_outbox_lag_is_the_newest_position_minus_the_delivered_one(app, engine) -> None:
    async with engine.connect() as conn:
        newest = await conn.scalar(text("SELECT coalesce(max(position), 0) FROM events"))
        delivered = await conn.scalar(text("SELECT position FROM delivery_cursors WHERE name = 'push'"))
    body = (await scrape(app)).text
    assert sample(body, "dq_outbox_lag_events", consumer="push") == max(newest - delivered, 0)


async def test_the_pool_gauges_count_connections_in_use_and_waiters(database_url: str) -> None:
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=30)
    try:
        held = await engine.connect().start()
        assert metrics.pool_status(engine.sync_engine.pool) == (1, 0)
        waiter = asyncio.create_task(engine.connect().start())
        deadline = time.monotonic() + 10
        while metrics.pool_status(engine.sync_engine.pool)[1] != 1:
            assert time.monotonic() < deadline, "the waiting task was never counted"
            await asyncio.sleep(0.01)
        await held.close()
        second = await waiter
        assert metrics.pool_status(engine.sync_engine.pool) == (1, 0)
        await second.close()
        assert metrics.pool_status(engine.sync_engine.pool) == (0, 0)
    finally:
        await engine.dispose()
