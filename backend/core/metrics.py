"""Prometheus metrics (``GET /metrics``) and the small API the rest of the app reports through.

What is measured (every name starts with ``dq_``; docs/observability.md lists them with their labels):

* HTTP requests by method, route *template* (``/api/bookings/{booking_id}``, never a concrete
  path, which would carry ids) and status; a latency histogram by method and route template;
* the database pool: connections in use and tasks waiting for one (sampled every second);
* the outbox: newest position minus each delivery cursor's position (``delivery_cursors``; computed at
  scrape time from the database, so any worker answers it the same);
* open WebSockets; delivery outcomes per channel; rate-limit refusals per limit; maintenance-job runs
  and failures per job.

Several worker processes: ``python -m backend serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
``var/metrics/`` first thing (``backend/cli.py``: before anything imports this module, since
prometheus-client chooses its storage when the first metric is made), every worker writes its samples there, and whichever worker
answers a scrape aggregates all of them (prometheus-client's multiprocess mode). Without the variable
(tests in one process, ``uvicorn backend.asgi:app`` by hand) the process's own registry is served.

Other code reports through these functions only (they never raise and never block):

    delivery_outcome(channel, outcome)   e.g. ("push", "sent"), ("sms", "failed"), ("wechat", "refused")
    delivery_alert(channel, kind)        e.g. ("sms", "balance_exhausted")
    rate_limit_refused(limit)            the limit's name (the rate-limit key's prefix; no phone, no address)
    maintenance_job(job, ok)             one run of a periodic job, and whether it failed
    websocket_opened() / websocket_closed()

Access: the client address must be in ``METRICS_ALLOW`` (default: loopback), or the request must carry
``Authorization: Bearer <METRICS_TOKEN>``. Anyone else gets 404, as if there were nothing here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from backend.core.authz import action

log = logging.getLogger("backend.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV) and prometheus_values.ValueClass is prometheus_values.MutexValue:
    raise RuntimeError(f"prometheus_client was imported before {MULTIPROC_ENV} was set: metrics would be per process")
METRICS = action("metrics.read", "read the service's metrics (allowed addresses or the metrics token)", roles=None)
SAMPLE_INTERVAL_S = 1.0
disable_created_metrics()  # no *_created series: scrapers need none, and they double the page
EXPOSITION_TYPE = "text/plain; version=0.0.4"

REQUESTS = Counter(
    "dq_http_requests", "HTTP requests answered, by method, route template and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "dq_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_POOL_IN_USE = Gauge("dq_db_pool_in_use", "Database connections checked out of the pool", multiprocess_mode="livesum")
DB_POOL_WAITING = Gauge(
    "dq_db_pool_waiting", "Tasks waiting for a database connection from the pool", multiprocess_mode="livesum"
)
WEBSOCKETS = Gauge("dq_websockets_open", "Open WebSocket connections", multiprocess_mode="livesum")
DELIVERIES = Counter("dq_delivery_outcomes", "Delivery attempts' outcomes by channel", ["channel", "outcome"])
DELIVERY_ALERTS = Counter(
    "dq_delivery_alerts",
    "Provider alerts a person must act on (balance exhausted, credentials refused)",
    ["channel", "kind"],
)
RATE_LIMIT_REFUSALS = Counter("dq_rate_limit_refusals", "Requests refused by a rate limit, by limit", ["limit"])
MAINTENANCE_RUNS = Counter("dq_maintenance_job_runs", "Runs of a periodic maintenance job", ["job"])
MAINTENANCE_FAILURES = Counter("dq_maintenance_job_failures", "Failed runs of a periodic maintenance job", ["job"])

_OUTBOX_LAG = text(
    "SELECT c.name, greatest((SELECT coalesce(max(position), 0) FROM events) - c.position, 0) AS lag"
    " FROM delivery_cursors c ORDER BY c.name"
)


# --- the reporting API -------------------------------------------------------------------------------


def delivery_outcome(channel: str, outcome: str) -> None:
    """Count one delivery attempt's outcome on a channel ('push', 'sms', 'wechat', ...). Outcomes are a
    small fixed vocabulary per channel ('sent', 'retry', 'gone', 'drop', 'failed'): never an address."""
    DELIVERIES.labels(channel=channel, outcome=outcome).inc()


def delivery_alert(channel: str, kind: str) -> None:
    """Count one provider alert on a channel: ('sms', 'balance_exhausted'), ('sms', 'auth_failure')."""
    DELIVERY_ALERTS.labels(channel=channel, kind=kind).inc()


def rate_limit_refused(limit: str) -> None:
    RATE_LIMIT_REFUSALS.labels(limit=limit).inc()


def maintenance_job(job: str, ok: bool) -> None:
    MAINTENANCE_RUNS.labels(job=job).inc()
    if not ok:
        MAINTENANCE_FAILURES.labels(job=job).inc()


def websocket_opened() -> None:
    WEBSOCKETS.inc()


def websocket_closed() -> None:
    WEBSOCKETS.dec()


# --- several processes ---------------------------------------------------------------------------------


def _multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


# --- requests ------------------------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """ASGI middleware (outermost): counts every HTTP answer by its route template and times it. A path
    that matched no route is counted under the route ``unmatched``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            key = (scope.get("method", "GET"), scope.get("path_template") or "unmatched", status)
            series = _SERIES.get(key)
            if series is None:
                series = _SERIES[key] = _series(*key)
            series[0].inc()
            series[1].observe(time.perf_counter() - start)


# The labelled series of each (method, route template, status) seen, looked up once: ``labels()``
# validates and locks on every call. It holds no more than prometheus_client keeps anyway (a child per
# label combination; templates, not paths: "unmatched" for every path that matched no route).
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    return (
        REQUESTS.labels(method=method, route=route, status=str(status)),
        LATENCY.labels(method=method, route=route),
    )


# --- sampled gauges -------------------------------------------------------------------------------------


def pool_status(pool: Any) -> tuple[int, int]:
    """(connections in use, tasks waiting) of SQLAlchemy's async queue pool. The waiters are read from
    the pool's asyncio queue (``tests/core/test_metrics.py`` proves it counts them)."""
    in_use = int(pool.checkedout()) if hasattr(pool, "checkedout") else 0
    queue = getattr(getattr(pool, "_pool", None), "_queue", None)
    getters = getattr(queue, "_getters", None) or ()
    waiting = sum(1 for waiter in getters if not waiter.done())
    return in_use, waiting


def sample(app: Any) -> None:
    engine = getattr(app.state, "metrics_engine", None)
    if engine is not None:
        in_use, waiting = pool_status(engine.sync_engine.pool)
        DB_POOL_IN_USE.set(in_use)
        DB_POOL_WAITING.set(waiting)


@contextlib.asynccontextmanager
async def metrics_lifespan(app: Any) -> AsyncIterator[None]:
    """Lifespan: sample this process's pool every second (the gauges are per process; a scrape sums them)."""

    async def loop() -> None:
        while True:
            with contextlib.suppress(Exception):
                sample(app)
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if (directory := _multiprocess_dir()) is not None:
            with contextlib.suppress(Exception):
                multiprocess.mark_process_dead(os.getpid(), directory)


def install(app: Any, engine: Any) -> None:
    """Wrap the app's ASGI handler (every HTTP answer, matched or not, is counted) and remember the
    engine whose pool is sampled. Called by ``create_app``."""
    app.state.metrics_engine = engine
    app.asgi_handler = RequestMetricsMiddleware(app.asgi_handler)


# --- the endpoint ---------------------------------------------------------------------------------------


class _Snapshot:
    """Metrics read from the database at scrape time (the same whichever worker answers)."""

    def __init__(self, lags: Iterable[tuple[str, int]]) -> None:
        self.lags = list(lags)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "dq_outbox_lag_events",
            "Events in the outbox after a delivery cursor (newest position minus delivered position)",
            labels=["consumer"],
        )
        for name, lag in self.lags:
            family.add_metric([name], lag)
        yield family


def allowed(request: Request[Any, Any, Any], networks: Iterable[str], token: str) -> bool:
    if token:
        presented = request.headers.get("authorization", "")
        if presented.lower().startswith("bearer ") and hmac.compare_digest(presented[7:].strip(), token):
            return True
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in networks)


async def _database_snapshot(request: Request[Any, Any, Any]) -> _Snapshot:
    maker = request.app.state.alchemy.create_session_maker()
    try:
        async with maker() as db:
            return _Snapshot([(row.name, int(row.lag)) for row in await db.execute(_OUTBOX_LAG)])
    except Exception as exc:  # the metrics page still answers while the database is away
        log.warning("metrics: database unavailable (%s)", type(exc).__name__)
        return _Snapshot(())


@get("/metrics", opt={"action": METRICS.name, "own_credentials": True}, include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    settings = request.app.state.settings
    if not allowed(request, settings.metrics_allow, settings.metrics_token):
        raise NotFoundException()
    snapshot = await _database_snapshot(request)
    sample(request.app)
    scraped = CollectorRegistry()
    scraped.register(snapshot)
    if (directory := _multiprocess_dir()) is not None:
        everything = CollectorRegistry()
        multiprocess.MultiProcessCollector(everything, path=directory)
        body = generate_latest(everything) + generate_latest(scraped)
    else:
        body = generate_latest(REGISTRY) + generate_latest(scraped)
    # The classic text format (generate_latest's); Litestar adds "; charset=utf-8".
    return Response(body, media_type=EXPOSITION_TYPE, headers={"Cache-Control": "no-store"})
