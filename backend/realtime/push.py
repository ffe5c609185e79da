"""Web Push: VAPID keys, and the worker that delivers the outbox to subscribed devices.

The worker runs in every app process and cooperates through PostgreSQL:

1. **Fan-out.** Whoever takes the ``push`` row of ``delivery_cursors`` (``FOR UPDATE SKIP LOCKED``)
   reads the events after it, in position order, and inserts one ``push_deliveries`` row per
   subscription of each account that may hear the event (the audience rule of ``events.py``) and has
   not switched the category off (high-urgency events are always sent; events marked ``silent``,
   such as a withdrawn notice, go to open apps only and are never pushed). Cursor and rows commit
   together, so an event is fanned out exactly once.
2. **Sending.** Due deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` and leased (their
   ``next_attempt_at`` moves PUSH_LEASE_S ahead) in a short transaction; they are sent outside it;
   the outcome is recorded after. A worker that dies mid-send leaves its lease to expire, and
   another worker sends again (at-least-once; the payload's ``id`` lets the client drop a repeat).

Outcomes: 2xx deletes the delivery; 404/410 delete the subscription; 429 and 5xx, timeouts and
connection errors retry with exponential back-off (PUSH_RETRY_BASE_S, doubling, at most an hour;
a Retry-After is honoured instead) up to PUSH_MAX_ATTEMPTS; a send that hangs is abandoned after
PUSH_TIMEOUT_S;
other 4xx drop the delivery. Every push has a TTL, an Urgency (``high`` for child-safety events
and urgent notices) and a payload of ids and a short title — never a child's name — kept under
3,993 bytes. The VAPID claims are a fresh dict per send (pywebpush fills in ``aud`` and ``exp``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
import random
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async
from sqlalchemy import text

from backend.core import metrics, tx
from backend.core.config import Settings
from backend.core.errors import database_unreachable
from backend.notify.service import ack_token
from backend.notify.urgency import is_critical, quiet_until
from backend.realtime.egress import private_host, public_connector
from backend.realtime.events import category_of, message_for

log = logging.getLogger("backend.push")

MAX_PAYLOAD_BYTES = 3993
CLAIM_BATCH = 50
FANOUT_BATCH = 200


def vapid(settings: Settings) -> Vapid:
    return Vapid.from_pem(settings.vapid_private_key.encode())


def public_key(settings: Settings) -> str:
    """The application server key for ``PushManager.subscribe`` (base64url, uncompressed P-256 point)."""
    raw = vapid(settings).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def payload_for(event: Any, ack: str | None = None) -> bytes:
    """The push body; ``ack`` (for the people an event names) lets the service worker report that it
    showed the notification (``POST /api/notify/ack``), which stops a critical event's SMS fallback."""
    message = message_for(event)
    body: dict[str, Any] = {
        "id": message.id,
        "event": message.event,
        "category": message.category,
        "title": message.title_zh,
        "body": message.title,
        "url": message.url,
        "tag": f"{message.subject.type}:{message.subject.id}",
        "subject": {"type": message.subject.type, "id": message.subject.id},
        "urgency": "critical" if is_critical(event) else "normal",
    }
    if ack:
        body["ack"] = ack
    encoded = msgspec.json.encode(body)
    if len(encoded) > MAX_PAYLOAD_BYTES:  # never expected: only ids and a short title
        encoded = msgspec.json.encode({k: body[k] for k in ("id", "event", "url", "subject", "ack") if k in body})
    return encoded


# Accounts that may hear an event: the rule of events.audience_sql, seen from the event's side
# (tests/realtime/test_audience.py checks the three forms agree).
AUDIENCE = """
    WITH e AS (SELECT * FROM events WHERE id = :event_id),
    audience AS (
        SELECT unnest(e.account_ids) AS account_id FROM e
        UNION SELECT g.account_id FROM role_grants g, e
              WHERE g.role IN ('institution_staff', 'institution_admin') AND g.institution_id = e.institution_id
        UNION SELECT g.account_id FROM role_grants g, e
              WHERE g.role = 'officer' AND g.department_code = ANY(e.department_codes)
                AND (g.unit_code IS NULL OR e.unit_code IS NULL OR g.unit_code = e.unit_code)
        UNION SELECT g.account_id FROM role_grants g, e
              WHERE g.role = 'city_admin' AND cardinality(e.department_codes) > 0
    )
"""

_FANOUT = text(
    AUDIENCE
    + """
    INSERT INTO push_deliveries (subscription_id, event_id, next_attempt_at)
    SELECT s.id, :event_id, coalesce(CAST(:not_before AS timestamptz), now()) FROM push_subscriptions s JOIN audience a ON a.account_id = s.account_id
    WHERE :urgent OR NOT EXISTS (
        SELECT 1 FROM notification_preferences p
        WHERE p.account_id = s.account_id AND p.category = :category AND NOT p.push)
    """
)

_CLAIM = text(
    """
    UPDATE push_deliveries d SET next_attempt_at = now() + make_interval(secs => :lease), attempts = d.attempts + 1
    WHERE d.id IN (SELECT id FROM push_deliveries WHERE next_attempt_at <= now()
                   ORDER BY next_attempt_at, id LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.subscription_id, d.event_id, d.attempts
    """
)


class PushWorker:
    def __init__(self, settings: Settings, session_maker: Callable[[], Any], wake: asyncio.Event) -> None:
        self.settings = settings
        self.session_maker = session_maker
        self.wake = wake
        self._vapid = vapid(settings)
        self._task: asyncio.Task[Any] | None = None
        self._http: aiohttp.ClientSession | None = None
        self.sent = 0

    async def start(self) -> None:
        # connections only to public addresses, checked on the addresses actually connected to
        self._http = aiohttp.ClientSession(connector=public_connector(self.settings.push_endpoint_allowlist))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._http is not None:
            await self._http.close()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.settings.push_poll_interval_s)
            self.wake.clear()
            try:
                while await self.fan_out():
                    pass
                while await self.send_due():
                    pass
            except Exception as exc:
                if database_unreachable(exc):  # nothing is lost: the outbox and the deliveries wait in PostgreSQL
                    log.warning("push worker: database unavailable (%s); retrying", type(exc).__name__)
                else:
                    log.warning("push worker round failed", exc_info=True)

    async def fan_out(self) -> int:
        """Turn new events into deliveries; returns how many events were handled."""
        async with self.session_maker() as db:
            cursor = await db.scalar(
                text("SELECT position FROM delivery_cursors WHERE name = 'push' FOR UPDATE SKIP LOCKED")
            )
            if cursor is None:
                return 0  # another process is fanning out
            rows = (
                await db.execute(
                    text(
                        "SELECT id, position, type, subject_type, urgency, payload,"
                        " (payload->>'silent') IS NOT NULL AS silent"
                        " FROM events WHERE position > :after"
                        " ORDER BY position LIMIT :batch"
                    ),
                    {"after": cursor, "batch": FANOUT_BATCH},
                )
            ).all()
            quiet = quiet_until(self.settings.notify.quiet_hours)
            for row in rows:
                if row.silent:  # e.g. a withdrawn notice: open apps drop it, phones are not woken
                    continue
                urgent = row.urgency == "high" or is_critical(row)
                await db.execute(
                    _FANOUT,
                    {
                        "event_id": row.id,
                        "urgent": urgent,
                        "category": category_of(row.subject_type),
                        # quiet hours (Beijing time) hold normal pushes back until they end
                        "not_before": None if urgent else quiet,
                    },
                )
            if rows:
                await db.execute(
                    text("UPDATE delivery_cursors SET position = :p WHERE name = 'push'"), {"p": rows[-1].position}
                )
            await tx.commit_outside_request(db)
            return len(rows)

    async def send_due(self) -> int:
        """Claim due deliveries, send them, record the outcomes; returns how many were claimed."""
        async with self.session_maker() as db:
            claimed = (await db.execute(_CLAIM, {"lease": self.settings.push_lease_s, "batch": CLAIM_BATCH})).all()
            await tx.commit_outside_request(db)
            if not claimed:
                return 0
            subs = {
                r.id: r
                for r in (
                    await db.execute(
                        text(
                            "SELECT id, account_id, endpoint, p256dh, auth FROM push_subscriptions WHERE id = ANY(:ids)"
                        ),
                        {"ids": [c.subscription_id for c in claimed]},
                    )
                ).all()
            }
            events = {
                e.id: e
                for e in (
                    await db.execute(
                        text("SELECT * FROM events WHERE id = ANY(:ids)"), {"ids": [c.event_id for c in claimed]}
                    )
                ).all()
            }
            await db.rollback()
        outcomes = await asyncio.gather(
            *(self._send(subs.get(c.subscription_id), events.get(c.event_id)) for c in claimed)
        )
        async with self.session_maker() as db:
            for delivery, (outcome, detail) in zip(claimed, outcomes, strict=True):
                await self._record(db, delivery, outcome, detail)
                await _log_delivery(
                    db,
                    subs.get(delivery.subscription_id),
                    events.get(delivery.event_id),
                    outcome,
                    delivery,
                    self.settings,
                )
            await tx.commit_outside_request(db)
        return len(claimed)

    async def _record(self, db: Any, delivery: Any, outcome: str, detail: Any) -> None:
        exhausted = outcome == "retry" and delivery.attempts >= self.settings.push_max_attempts
        metrics.delivery_outcome("push", "drop" if exhausted else outcome)
        if outcome == "sent":
            self.sent += 1
            await db.execute(text("DELETE FROM push_deliveries WHERE id = :id"), {"id": delivery.id})
        elif outcome == "gone":
            await db.execute(text("DELETE FROM push_subscriptions WHERE id = :id"), {"id": delivery.subscription_id})
        elif outcome == "retry" and delivery.attempts < self.settings.push_max_attempts:
            delay = (
                detail
                if isinstance(detail, (int, float))
                else min(3600, self.settings.push_retry_base_s * 2 ** (delivery.attempts - 1))
            )
            delay *= random.uniform(0.9, 1.1)
            await db.execute(
                text(
                    "UPDATE push_deliveries SET next_attempt_at = now() + make_interval(secs => :d), last_error = :e"
                    " WHERE id = :id"
                ),
                {"d": delay, "e": str(detail)[:500], "id": delivery.id},
            )
        else:
            log.warning("push delivery %s dropped after %s attempts: %s", delivery.id, delivery.attempts, detail)
            await db.execute(text("DELETE FROM push_deliveries WHERE id = :id"), {"id": delivery.id})

    async def _send(self, sub: Any, event: Any) -> tuple[str, Any]:
        """One send, bounded: a push service that accepts the connection and never answers (or a DNS
        lookup that hangs) costs at most PUSH_TIMEOUT_S plus a little, then the delivery is retried."""
        try:
            async with asyncio.timeout(self.settings.push_timeout_s + 2):
                return await self._send_once(sub, event)
        except TimeoutError:
            return "retry", "TimeoutError"

    async def _send_once(self, sub: Any, event: Any) -> tuple[str, Any]:
        if sub is None or event is None:
            return "drop", "subscription or event gone"
        if not await self._endpoint_is_public(sub.endpoint):
            return "gone", "endpoint resolves to a private address"
        try:
            await webpush_async(
                subscription_info={"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                data=payload_for(event, self._ack(sub, event)).decode(),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self.settings.vapid_subject},  # fresh per send: pywebpush mutates it
                ttl=self.settings.push_ttl_s,
                headers={"Urgency": "high" if event.urgency == "high" or is_critical(event) else "normal"},
                timeout=self.settings.push_timeout_s,
                aiohttp_session=self._http,
            )
        except WebPushException as exc:
            status = exc.status_code
            if status in (404, 410):
                return "gone", status
            if status == 429 or (status is not None and status >= 500):
                return "retry", _retry_after(exc.retry_after) or f"HTTP {status}"
            return "drop", f"HTTP {status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return "retry", type(exc).__name__
        return "sent", None

    def _ack(self, sub: Any, event: Any) -> str | None:
        if sub.account_id not in (event.account_ids or ()):
            return None  # staff and officers hear institution and department events; no fallback to stop
        return ack_token(self.settings.secret_key, event.id, sub.account_id)

    async def _endpoint_is_public(self, endpoint: str) -> bool:
        """Against DNS tricks: the endpoint's host must resolve to public addresses only."""
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        host_port = f"{host}:{parts.port}" if parts.port else host
        allow = self.settings.push_endpoint_allowlist
        if host in allow or host_port in allow:
            return True
        if private_host(host):
            return False
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except OSError:
            return True  # cannot resolve now: the send fails and is retried
        return not any(private_host(info[4][0]) for info in infos)


async def _log_delivery(db: Any, sub: Any, event: Any, outcome: str, delivery: Any, settings: Settings) -> None:
    """The delivery log (notify_deliveries) of the people an event names: pushed, or could not be."""
    if sub is None or event is None or sub.account_id not in (event.account_ids or ()):
        return
    final_failure = outcome in ("gone", "drop") or (
        outcome == "retry" and delivery.attempts >= settings.push_max_attempts
    )
    if outcome != "sent" and not final_failure:
        return
    await db.execute(
        text(
            "INSERT INTO notify_deliveries (event_id, account_id, channel, status) VALUES (:e, :a, 'push', :s)"
            " ON CONFLICT (event_id, account_id, channel) DO UPDATE SET status = EXCLUDED.status, updated_at = now()"
            " WHERE notify_deliveries.status NOT IN ('acknowledged', 'sent')"
        ),
        {"e": event.id, "a": sub.account_id, "s": "sent" if outcome == "sent" else "failed"},
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(1.0, float(value))
    with contextlib.suppress(Exception):
        from email.utils import parsedate_to_datetime

        return max(1.0, (parsedate_to_datetime(value) - dt.datetime.now(dt.UTC)).total_seconds())
    return None
