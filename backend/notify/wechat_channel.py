"""WeChat subscription messages (订阅消息) as one more channel of the notification pipeline.

The notify worker (``backend.notify.worker``) calls in here; the queue is ``notify_deliveries``
(channel ``wechat``) with the same guarantees as the SMS rows:

1. **Fan-out** (in the worker's fan-out transaction, under the ``notify`` cursor's lock): for every
   event that names people (``account_ids``), one ``wechat`` row per person who has a bound WeChat
   identity with the channel on, subscribed to the event's kind (= its category: enrolment,
   bookings, notices, complaints) and did not switch WeChat off for that category in 通知方式. Only
   kinds with a configured template (``WECHAT_TEMPLATES``). Normal events wait out quiet hours
   (``due_at``); critical ones go at once. ``UNIQUE (event_id, account_id, channel)`` + ON CONFLICT DO
   NOTHING: one row, however often the fan-out runs.
2. **Claim**: due rows (up to ``CLAIM_BATCH``) are marked ``sending`` with a lease (``due_at``) in one
   committed UPDATE over a ``FOR UPDATE SKIP LOCKED`` selection, so two processes never take the same
   row; a row whose lease ran out (its process died mid-send) is taken again — then, as for SMS, the
   person may get that one message twice (WeChat's API has no idempotency key). A batch is sent
   ``PARALLEL_SENDS`` at a time.
3. **Send and record** (``backend.wechat.messages``): the sender re-checks binding, channel and
   subscription, refreshes an expired access_token and retries once itself, and maps WeChat's
   answers. ``sent``; ``refused`` (43101/40003: the sender turns the person's channel off in the same
   transaction that records ``failed``/``refused``); ``rate_limited``/``unavailable``: ``queued`` again
   at now + the back-off WeChat asked for, at most ``MAX_ATTEMPTS`` sends; not bound / not subscribed /
   channel off / not enabled (changed since the fan-out): ``skipped``; any other errcode: ``failed``.

The message carries a short title naming the kind of news (never a child's name, never a notice's own
title, which may name one) and the time; a tap opens the event's page in the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from backend.core import metrics, tx
from backend.core.config import WECHAT_EVENT_KINDS, Settings
from backend.notify.urgency import BEIJING, is_critical, quiet_until, sms_title
from backend.realtime.events import category_of, message_for
from backend.wechat.messages import Outcome, WeChatSender

log = logging.getLogger("backend.notify")

CLAIM_BATCH = 50
PARALLEL_SENDS = 10  # per process; a batch ends well within a graceful stop's wait
MAX_ATTEMPTS = 5

# Titles by category for events whose own title could name a child (notices, complaints, ...).
GENERIC_TITLES = {
    "enrolment": "入托申请有新进展",
    "bookings": "托育预约有新进展",
    "notices": "您有一条新的通知",
    "complaints": "投诉处理有新进展",
}

_FANOUT = text(
    """
    INSERT INTO notify_deliveries (event_id, account_id, channel, status, due_at)
    SELECT :event_id, i.account_id, 'wechat', 'queued', coalesce(CAST(:not_before AS timestamptz), now())
    FROM wechat_identities i
    JOIN wechat_subscriptions s ON s.account_id = i.account_id AND s.event_kind = :kind
    JOIN accounts a ON a.id = i.account_id AND a.erased_at IS NULL AND a.disabled_at IS NULL
    WHERE i.account_id = ANY(:accounts) AND i.channel_on
      AND NOT EXISTS (SELECT 1 FROM notification_preferences p
                      WHERE p.account_id = i.account_id AND p.category = :kind AND NOT p.wechat)
    ON CONFLICT DO NOTHING
    """
)

_CLAIM = text(
    """
    UPDATE notify_deliveries d SET status = 'sending', attempts = d.attempts + 1,
           due_at = now() + make_interval(secs => :lease), updated_at = now()
    WHERE d.id IN (SELECT id FROM notify_deliveries
                   WHERE channel = 'wechat' AND status IN ('queued', 'sending') AND due_at <= now()
                   ORDER BY due_at, id LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.event_id, d.account_id, d.attempts
    """
)

_RECORD = text(
    """
    UPDATE notify_deliveries SET status = CAST(:status AS varchar), detail = CAST(:detail AS varchar),
           updated_at = now(),
           due_at = CASE WHEN CAST(:status AS varchar) = 'queued'
                         THEN now() + make_interval(secs => CAST(:delay AS float8)) END
    WHERE id = :id AND status = 'sending'
    """
)


def event_kind(event: Any) -> str | None:
    kind = category_of(event.subject_type)
    return kind if kind in WECHAT_EVENT_KINDS else None


async def fan_out(db: Any, settings: Settings, event: Any) -> None:
    """Queue this event's WeChat rows (called in the worker's fan-out transaction)."""
    kind = event_kind(event)
    if not event.account_ids or kind is None or settings.wechat.template(kind) is None:
        return
    not_before = None if is_critical(event) else quiet_until(settings.notify.quiet_hours)
    await db.execute(
        _FANOUT,
        {"event_id": event.id, "accounts": list(event.account_ids), "kind": kind, "not_before": not_before},
    )


def fields_of(event: Any) -> tuple[str, dict[str, str]]:
    """(page path, message fields): a title naming the kind of news only, and the time."""
    message = message_for(event)
    if is_critical(event):
        title = sms_title(event)
    elif event.subject_type in ("application", "booking"):  # "托育预约：已确认": a status, no names
        title = message.title_zh
    else:
        title = GENERIC_TITLES.get(message.category, "您有一条新消息")
    at = event.created_at.astimezone(BEIJING)
    return message.url, {"title": title, "time": f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"}


class WeChatChannel:
    def __init__(self, settings: Settings, session_maker: Callable[[], Any]) -> None:
        self.settings = settings
        self.session_maker = session_maker
        self.lease_s = settings.wechat.timeout_s * 4 + 10  # covers a send, a token refresh and the retry
        self.sent = 0

    async def send_due(self) -> int:
        """Claim due WeChat rows, send them, record each outcome; returns how many were claimed."""
        if not self.settings.wechat.enabled:
            return 0
        async with self.session_maker() as db:
            claimed = (await db.execute(_CLAIM, {"lease": self.lease_s, "batch": CLAIM_BATCH})).all()
            events = {}
            if claimed:
                rows = await db.execute(
                    text(
                        "SELECT id, position, type, subject_type, subject_id, urgency, payload, created_at"
                        " FROM events WHERE id = ANY(:ids)"
                    ),
                    {"ids": list({r.event_id for r in claimed})},
                )
                events = {r.id: r for r in rows}
            await tx.commit_outside_request(db)
        if not claimed:
            return 0
        slots = asyncio.Semaphore(PARALLEL_SENDS)

        async def deliver(wechat: WeChatSender, row: Any) -> None:
            async with slots:
                await self._deliver(wechat, row, events.get(row.event_id))

        async with WeChatSender(self.settings, self.session_maker) as wechat:  # type: ignore[arg-type]
            results = await asyncio.gather(*(deliver(wechat, row) for row in claimed), return_exceptions=True)
        for failure in (r for r in results if isinstance(r, BaseException)):
            # the row stays ``sending`` and is taken again when its lease runs out
            log.warning("notify: recording a WeChat outcome failed: %r", failure)
        return len(claimed)

    async def _deliver(self, wechat: WeChatSender, row: Any, event: Any) -> None:
        async with self.session_maker() as db:
            status, detail, delay = "failed", "event_gone", 0.0
            if event is not None:
                kind = event_kind(event) or ""
                page, fields = fields_of(event)
                try:
                    result = await wechat.send(db, row.account_id, kind, page, fields)
                except Exception as exc:  # a sender bug must not lose the row: retry it
                    log.warning("WeChat send raised %s", type(exc).__name__)
                    result = None
                status, detail, delay = self._decide(row, result)
                metrics.delivery_outcome("wechat", result.outcome.value if result else "error")
            await db.execute(_RECORD, {"id": row.id, "status": status, "detail": detail, "delay": delay})
            await tx.commit_outside_request(db)  # with the channel switched off, if WeChat refused
        if status == "sent":
            self.sent += 1

    @staticmethod
    def _decide(row: Any, result: Any) -> tuple[str, str | None, float]:
        if result is None:
            outcome, retry_after, errcode = Outcome.UNAVAILABLE, 60.0, None
        else:
            outcome, retry_after, errcode = result.outcome, float(result.retry_after_s or 60), result.errcode
        if outcome is Outcome.SENT:
            return "sent", None, 0.0
        if outcome is Outcome.REFUSED:
            return "failed", "refused", 0.0
        if outcome in (Outcome.RATE_LIMITED, Outcome.UNAVAILABLE):
            if row.attempts < MAX_ATTEMPTS:
                return "queued", outcome.value, retry_after
            return "failed", outcome.value, 0.0
        if outcome is Outcome.FAILED:
            return "failed", f"errcode_{errcode}", 0.0
        return "skipped", outcome.value, 0.0  # not bound / not subscribed / channel off / not enabled
