"""The notification worker: the outbox's critical events fall back to SMS, exactly once per person;
every event goes as a WeChat subscription message to those who subscribed (``wechat_channel``).

Every app process runs one (``NOTIFY_WORKER=false`` turns it off); they cooperate through PostgreSQL:

1. **Fan-out.** Whoever takes the ``notify`` row of ``delivery_cursors`` (``FOR UPDATE SKIP
   LOCKED``) reads the events after it in position order. For each *critical* event
   (``urgency.is_critical``) it inserts one ``sms`` row of ``notify_deliveries`` per person the event
   names (``account_ids``: the guardians): ``waiting`` until ``SMS_FALLBACK_AFTER`` if the person has a
   push subscription, due at once (``no_push``) if not, ``skipped`` if they have no phone or switched
   SMS off for the category. ``UNIQUE (event_id, account_id, channel)`` and ON CONFLICT DO NOTHING
   make a second fan-out of the same event a no-op. Normal events never get an SMS row.
2. **Acknowledgement.** The service worker (or the open app) reports that it showed the event
   (``service.acknowledge``): a ``waiting`` SMS row becomes ``skipped``. Rows still waiting at their
   ``due_at`` are due; a claim skips those acknowledged meanwhile (so an acknowledgement that raced
   the fan-out still counts).
3. **Sending.** Due rows are claimed with ``FOR UPDATE SKIP LOCKED`` in a transaction that also takes
   request tokens from the bucket all processes share (``sms_rate_buckets``: SMS_MAX_QPS in any
   window of one second),
   counts the person's daily cap and the city's daily budget (``sms_counters``; over either, the row
   fails with ``daily_cap``/``budget``), and marks the rows ``sending`` with a lease. The provider is
   called after that commit; the outcome is recorded after: ``sent``; retry with exponential back-off
   (rate-limited, 5xx, network) up to SMS_MAX_ATTEMPTS; ``failed`` at once for an invalid number, an
   unapproved template or an exhausted balance.

A process stopped gracefully finishes its in-flight sends and records them before it exits, so a
restart neither loses nor repeats a message. A process killed mid-send leaves its rows ``sending``;
when the lease expires another process sends them again (the one case where a person could get a
second SMS: the provider APIs offer no idempotency key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from backend.core import tx
from backend.core.config import Settings
from backend.core.errors import database_unreachable
from backend.notify.gateways import SmsOutcome
from backend.notify.urgency import beijing_day, is_critical, sms_title
from backend.notify.wechat_channel import WeChatChannel
from backend.notify.wechat_channel import fan_out as wechat_fan_out
from backend.realtime.events import category_of

log = logging.getLogger("backend.notify")

FANOUT_BATCH = 200
CLAIM_BATCH = 200
DELIVERY_SLOTS = 4  # claimed batches being sent at once, per process

_FANOUT_SMS = text(
    """
    INSERT INTO notify_deliveries (event_id, account_id, channel, status, detail, due_at)
    SELECT :event_id, a.id, 'sms',
           CASE WHEN a.phone IS NULL OR off.account_id IS NOT NULL OR ack.account_id IS NOT NULL THEN 'skipped'
                WHEN s.account_id IS NULL THEN 'queued' ELSE 'waiting' END,
           CASE WHEN a.phone IS NULL THEN 'no_phone' WHEN off.account_id IS NOT NULL THEN 'sms_off'
                WHEN ack.account_id IS NOT NULL THEN 'acknowledged'
                WHEN s.account_id IS NULL THEN 'no_push' ELSE 'awaiting_ack' END,
           CASE WHEN s.account_id IS NULL THEN now() ELSE now() + make_interval(secs => :after) END
    FROM accounts a
    LEFT JOIN (SELECT DISTINCT account_id FROM push_subscriptions WHERE account_id = ANY(:accounts)) s
           ON s.account_id = a.id
    LEFT JOIN notification_preferences off
           ON off.account_id = a.id AND off.category = :category AND NOT off.sms
    LEFT JOIN (SELECT DISTINCT account_id FROM notify_deliveries
               WHERE event_id = :event_id AND channel <> 'sms' AND status = 'acknowledged') ack
           ON ack.account_id = a.id
    WHERE a.id = ANY(:accounts) AND a.erased_at IS NULL AND a.disabled_at IS NULL
    ON CONFLICT DO NOTHING
    """
)

_SKIP_ACKNOWLEDGED = text(
    """
    UPDATE notify_deliveries d SET status = 'skipped', detail = 'acknowledged', updated_at = now()
    WHERE d.id = ANY(CAST(:ids AS bigint[]))
      AND EXISTS (SELECT 1 FROM notify_deliveries k
                  WHERE k.event_id = d.event_id AND k.account_id = d.account_id
                    AND k.channel <> 'sms' AND k.status = 'acknowledged')
    RETURNING d.id
    """
)

_MARK_FAILED = text(
    """
    UPDATE notify_deliveries d SET status = 'failed', detail = v.code, due_at = NULL, updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:codes AS text[])) AS v(id, code) WHERE d.id = v.id
    """
)

_CANDIDATES = text(
    """
    SELECT d.id, d.event_id, d.account_id, d.attempts, d.detail, d.link_token, a.phone
    FROM notify_deliveries d JOIN accounts a ON a.id = d.account_id
    WHERE d.channel = 'sms' AND d.status IN ('waiting', 'queued', 'sending') AND d.due_at <= now()
    ORDER BY d.due_at, d.id LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
    """
)

_MARK_SENDING = text(
    """
    UPDATE notify_deliveries d SET status = 'sending', attempts = d.attempts + 1, link_token = v.token,
           detail = CASE WHEN d.detail = 'awaiting_ack' THEN 'not_acknowledged' ELSE d.detail END,
           due_at = now() + make_interval(secs => :lease), updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:tokens AS text[])) AS v(id, token)
    WHERE d.id = v.id
    """
)

_COUNT = text(
    """
    INSERT INTO sms_counters (day, scope, used) VALUES (:day, :scope, 1)
    ON CONFLICT (day, scope) DO UPDATE SET used = sms_counters.used + 1 WHERE sms_counters.used < :limit
    RETURNING used
    """
)


class NotifyWorker:
    def __init__(
        self, settings: Settings, session_maker: Callable[[], Any], sender: Any, wake: asyncio.Event | None = None
    ) -> None:
        self.settings = settings
        self.n = settings.notify
        self.session_maker = session_maker
        self.sender = sender
        self.wake = wake or asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._stopping = False
        self.sent = 0
        self._inflight: set[asyncio.Task[Any]] = set()
        self._slots = asyncio.Semaphore(DELIVERY_SLOTS)
        # A lease outlives the longest send (the SDK's timeout), so no live send is ever taken over.
        self.lease_s = max(float(self.n.sms_lease_s), self.n.sms_timeout_s * 2 + 5)
        self.wechat = WeChatChannel(settings, session_maker)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Finish the round in progress (its sends are recorded), then stop."""
        self._stopping = True
        self.wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=self.n.sms_timeout_s + 5)
            except (TimeoutError, asyncio.CancelledError, Exception):
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.n.notify_poll_interval_s)
            self.wake.clear()
            try:
                while not self._stopping and await self.fan_out():
                    pass
                while not self._stopping:
                    claimed, throttled = await self.send_due()
                    if throttled:  # the bucket is empty: wait for the next token
                        _burst, rate = self._bucket()
                        await asyncio.sleep(min(1.0, 1.0 / rate) * random.uniform(0.8, 1.2))
                    elif not claimed:
                        break
                while not self._stopping and await self.wechat.send_due():
                    pass
            except Exception as exc:
                if database_unreachable(exc):  # nothing is lost: the rows wait in PostgreSQL
                    log.warning("notify worker: database unavailable (%s); retrying", type(exc).__name__)
                else:
                    log.warning("notify worker round failed", exc_info=True)
        if self._inflight:  # stopping: the sends under way finish and are recorded
            await asyncio.gather(*self._inflight, return_exceptions=True)

    # ------------------------------------------------------------------------------------ fan-out

    async def fan_out(self) -> int:
        """Turn new critical events into SMS rows; returns how many events were read."""
        async with self.session_maker() as db:
            cursor = await db.scalar(
                text("SELECT position FROM delivery_cursors WHERE name = 'notify' FOR UPDATE SKIP LOCKED")
            )
            if cursor is None:
                return 0  # another process is fanning out (or the migration has not run)
            rows = (
                await db.execute(
                    text(
                        "SELECT id, position, type, subject_type, urgency, payload, account_ids FROM events"
                        " WHERE position > :after ORDER BY position LIMIT :batch"
                    ),
                    {"after": cursor, "batch": FANOUT_BATCH},
                )
            ).all()
            for row in rows:
                await wechat_fan_out(db, self.settings, row)  # every event kind, for those who subscribed
                if row.account_ids and is_critical(row):
                    await db.execute(
                        _FANOUT_SMS,
                        {
                            "event_id": row.id,
                            "accounts": list(row.account_ids),
                            "category": category_of(row.subject_type),
                            "after": self.n.sms_fallback_after_s,
                        },
                    )
            if rows:
                await db.execute(
                    text("UPDATE delivery_cursors SET position = :p WHERE name = 'notify'"), {"p": rows[-1].position}
                )
            await tx.commit_outside_request(db)
            return len(rows)

    # ------------------------------------------------------------------------------------ sending

    def _bucket(self) -> tuple[float, float]:
        """(burst, refill per second): any one-second window sees at most burst + refill = SMS_MAX_QPS."""
        burst = float(max(1, self.n.sms_max_qps // 10))
        return burst, max(0.5, self.n.sms_max_qps - burst)

    async def _reserve(self, db: Any, wanted: int) -> int:
        """Take up to ``wanted`` request tokens from the bucket all processes share."""
        burst, rate = self._bucket()
        row = (
            await db.execute(
                text(
                    "SELECT tokens, extract(epoch FROM clock_timestamp() - refilled_at) AS elapsed"
                    " FROM sms_rate_buckets WHERE name = 'sms' FOR UPDATE"
                )
            )
        ).one()
        tokens = min(burst, row.tokens + rate * max(0.0, float(row.elapsed)))
        grant = max(0, min(wanted, int(tokens)))
        await db.execute(
            text("UPDATE sms_rate_buckets SET tokens = :t, refilled_at = clock_timestamp() WHERE name = 'sms'"),
            {"t": tokens - grant},
        )
        return grant

    async def send_due(self) -> tuple[int, bool]:
        """Claim due SMS rows, send them, record the outcomes; returns (claimed, throttled)."""
        async with self.session_maker() as db:
            due = await db.scalar(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM notify_deliveries WHERE channel = 'sms'"
                    " AND status IN ('waiting', 'queued', 'sending') AND due_at <= now() LIMIT :n) x"
                ),
                {"n": CLAIM_BATCH},
            )
            if not due:
                await tx.commit_outside_request(db)
                return 0, False
            grant = await self._reserve(db, int(due))
            if grant == 0:
                await tx.commit_outside_request(db)
                return 0, True
            candidates = (await db.execute(_CANDIDATES, {"limit": grant})).all()
            # An acknowledgement may have come in after the fan-out: those SMS are not needed.
            first = [r.id for r in candidates if r.attempts == 0]
            acked = set((await db.execute(_SKIP_ACKNOWLEDGED, {"ids": first})).scalars()) if first else set()
            day = beijing_day()
            budget_left = await self._budget_left(db, day)
            jobs: list[tuple[Any, str]] = []
            refused: list[tuple[int, str]] = []
            for row in candidates:
                if row.id in acked:
                    continue
                refusal = await self._refusal(db, row, day, budget_left)
                if refusal is not None:
                    refused.append((row.id, refusal))
                    continue
                if row.attempts == 0:
                    budget_left[0] -= 1
                jobs.append((row, row.link_token or secrets.token_urlsafe(8)))
            counted = sum(1 for row, _ in jobs if row.attempts == 0)
            if counted:
                await db.execute(
                    text("UPDATE sms_counters SET used = used + :n WHERE day = :day AND scope = 'city'"),
                    {"n": counted, "day": day},
                )
            if refused:
                await db.execute(_MARK_FAILED, {"ids": [i for i, _ in refused], "codes": [c for _, c in refused]})
                if any(code == "budget" for _, code in refused):
                    log.error("SMS ALERT budget: the city-wide daily SMS budget (%d) is spent", self.n.sms_daily_budget)
            if jobs:
                await db.execute(
                    _MARK_SENDING,
                    {
                        "ids": [row.id for row, _ in jobs],
                        "tokens": [token for _, token in jobs],
                        "lease": self.lease_s,
                    },
                )
            if len(jobs) < grant:  # tokens not used (refused rows, rows gone) go back to the bucket
                await db.execute(
                    text("UPDATE sms_rate_buckets SET tokens = tokens + :n WHERE name = 'sms'"),
                    {"n": grant - len(jobs)},
                )
            events = await self._events(db, {row.event_id for row, _ in jobs})
            await tx.commit_outside_request(db)
        if jobs:
            # Sending and recording run beside the next claims (at most DELIVERY_SLOTS batches at once), so
            # the provider's latency does not limit the rate; a graceful stop waits for them.
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(jobs, events))
            self._inflight.add(task)
            task.add_done_callback(self._delivered)
        return len(candidates), False

    def _delivered(self, task: asyncio.Task[Any]) -> None:
        self._inflight.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.warning("notify: recording SMS outcomes failed: %r", task.exception())

    async def _deliver(self, jobs: list[tuple[Any, str]], events: dict[int, Any]) -> None:
        outcomes = await asyncio.gather(*(self._send(row, token, events.get(row.event_id)) for row, token in jobs))
        async with self.session_maker() as db:
            await self._record(db, [(row, outcome) for (row, _), outcome in zip(jobs, outcomes, strict=True)])
            await tx.commit_outside_request(db)

    async def _budget_left(self, db: Any, day: Any) -> list[int]:
        """The city's SMS left today; its counter row stays locked until this claim commits."""
        await db.execute(
            text("INSERT INTO sms_counters (day, scope, used) VALUES (:day, 'city', 0) ON CONFLICT DO NOTHING"),
            {"day": day},
        )
        used = await db.scalar(
            text("SELECT used FROM sms_counters WHERE day = :day AND scope = 'city' FOR UPDATE"), {"day": day}
        )
        return [max(0, self.n.sms_daily_budget - int(used or 0))]

    async def _refusal(self, db: Any, row: Any, day: Any, budget_left: list[int]) -> str | None:
        """Why this SMS may not go (no phone, over the city's budget or the person's cap), counting the cap if it may."""
        if row.phone is None:
            return "no_phone"
        if row.attempts > 0:
            return None  # counted when first claimed
        cap = {"day": day, "scope": str(row.account_id), "limit": self.n.sms_daily_cap_per_account}
        if await db.scalar(_COUNT, cap) is None:
            return "daily_cap"
        if budget_left[0] <= 0:  # within the person's cap but over the city's budget: not counted for them
            await db.execute(
                text("UPDATE sms_counters SET used = used - 1 WHERE day = :day AND scope = :scope"),
                {"day": day, "scope": str(row.account_id)},
            )
            return "budget"
        return None

    async def _events(self, db: Any, ids: set[int]) -> dict[int, Any]:
        if not ids:
            return {}
        rows = await db.execute(
            text("SELECT id, type, subject_type, urgency, payload FROM events WHERE id = ANY(:ids)"), {"ids": list(ids)}
        )
        return {r.id: r for r in rows}

    async def _send(self, row: Any, token: str, event: Any) -> SmsOutcome:
        if event is None:
            return SmsOutcome("failed", "event_gone")
        link = f"{self.settings.public_base_url}/n/{token}"
        try:
            return await self.sender.send_notice(row.phone, sms_title(event), link, ref=f"n{row.id}")
        except Exception as exc:  # a sender bug must not lose the row: retry it
            log.warning("SMS send raised %s", type(exc).__name__)
            return SmsOutcome("retry", "sender_error", type(exc).__name__)

    async def _record(self, db: Any, results: list[tuple[Any, SmsOutcome]]) -> None:
        sent, retry, failed = [], [], []
        for row, outcome in results:
            attempts = row.attempts + 1
            if outcome.status == "sent":
                sent.append((row.id, outcome.serial[:64] or None))
            elif outcome.status == "retry" and attempts < self.n.sms_max_attempts:
                delay = outcome.retry_after_s or min(3600.0, self.n.sms_retry_base_s * 2 ** (attempts - 1))
                retry.append((row.id, delay * random.uniform(0.9, 1.1)))
            else:
                failed.append((row.id, outcome.code[:64]))
        self.sent += len(sent)
        await _set_outcome(db, "status = 'sent', provider_serial = v.value, due_at = NULL", "text", sent)
        await _set_outcome(db, "status = 'queued', due_at = now() + make_interval(secs => v.value)", "float8", retry)
        await _set_outcome(db, "status = 'failed', detail = v.value, due_at = NULL", "text", failed)


async def _set_outcome(db: Any, assignments: str, value_type: str, rows: list[tuple[int, Any]]) -> None:
    """Record one outcome for a batch of SMS rows still being sent: ``assignments`` (a fixed SQL fragment)
    take each row's value as ``v.value``, of ``value_type``."""
    if rows:
        await db.execute(
            text(
                f"UPDATE notify_deliveries d SET {assignments}, updated_at = now()"
                f" FROM unnest(CAST(:ids AS bigint[]), CAST(:values AS {value_type}[])) AS v(id, value)"
                " WHERE d.id = v.id AND d.status = 'sending'"
            ),
            {"ids": [i for i, _ in rows], "values": [x for _, x in rows]},
        )
