"""Acknowledgements, the person's delivery log and channels, SMS links, and the admins' counts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.authz import Principal
from backend.core.config import Settings
from backend.core.errors import NotFound
from backend.core.security import constant_time_equal, keyed_digest
from backend.notify.gateways import mask_phone
from backend.notify.schemas import AckOut, ChannelDayCount, Channels, LinkOut, LogEntry, Stats
from backend.notify.urgency import beijing_day
from backend.realtime.events import message_for

STATUS_ZH = {
    ("push", "sent"): "已推送到手机",
    ("push", "failed"): "推送未送达",
    ("push", "acknowledged"): "手机已显示通知",
    ("websocket", "acknowledged"): "已在应用内查看",
    ("sms", "waiting"): "等待手机确认，未确认将发送短信",
    ("sms", "queued"): "短信排队发送中",
    ("sms", "sending"): "短信发送中",
    ("sms", "sent"): "已通过短信通知",
    ("sms", "acknowledged"): "已通过短信通知，并已打开链接",
    ("sms", "failed"): "短信发送失败",
    ("sms", "skipped"): "无需发送短信",
    ("wechat", "queued"): "微信消息排队发送中",
    ("wechat", "sending"): "微信消息发送中",
    ("wechat", "sent"): "已通过微信通知",
    ("wechat", "failed"): "微信消息未送达",
    ("wechat", "skipped"): "无需发送微信消息",
}


# ---------------------------------------------------------------------------------------------- tokens


def ack_token(secret_key: str, event_id: int, account_id: uuid.UUID) -> str:
    """The token a push payload carries so the service worker can acknowledge it without a session."""
    mac = keyed_digest(secret_key, "notify-ack", f"{event_id}:{account_id.hex}")[:16].hex()
    return f"{event_id}.{account_id.hex}.{mac}"


def _parse_ack(secret_key: str, token: str) -> tuple[int, uuid.UUID] | None:
    try:
        event_part, account_part, mac = token.split(".")
        event_id, account_id = int(event_part), uuid.UUID(hex=account_part)
    except ValueError:
        return None
    if not constant_time_equal(ack_token(secret_key, event_id, account_id).rsplit(".", 1)[1], mac):
        return None
    return event_id, account_id


# ---------------------------------------------------------------------------------------------- acknowledgement


async def _acknowledge(db: AsyncSession, event_id: int, account_id: uuid.UUID, channel: str) -> AckOut:
    await db.execute(
        text(
            "INSERT INTO notify_deliveries (event_id, account_id, channel, status) VALUES (:e, :a, :c, 'acknowledged')"
            " ON CONFLICT (event_id, account_id, channel)"
            " DO UPDATE SET status = 'acknowledged', updated_at = now()"
        ),
        {"e": event_id, "a": account_id, "c": channel},
    )
    # A fallback not yet claimed is no longer needed. (One that is being sent goes out: too late.)
    cancelled = await db.scalar(
        text(
            "UPDATE notify_deliveries SET status = 'skipped', detail = 'acknowledged', updated_at = now()"
            " WHERE event_id = :e AND account_id = :a AND channel = 'sms' AND status IN ('waiting', 'queued')"
            " AND attempts = 0 RETURNING id"
        ),
        {"e": event_id, "a": account_id},
    )
    if cancelled is not None:
        return AckOut(acknowledged=True, sms="cancelled")
    sms = await db.scalar(
        text("SELECT status FROM notify_deliveries WHERE event_id = :e AND account_id = :a AND channel = 'sms'"),
        {"e": event_id, "a": account_id},
    )
    return AckOut(
        acknowledged=True, sms="already_sent" if sms in ("sending", "sent", "acknowledged") else "not_planned"
    )


async def acknowledge_token(db: AsyncSession, settings: Settings, token: str) -> AckOut:
    parsed = _parse_ack(settings.secret_key, token)
    if parsed is None:
        raise NotFound("notification")
    event_id, account_id = parsed
    exists = await db.scalar(
        text("SELECT 1 FROM events e JOIN accounts a ON a.id = :a AND a.erased_at IS NULL WHERE e.id = :e"),
        {"e": event_id, "a": account_id},
    )
    if exists is None:  # the event was pruned, or the account erased
        raise NotFound("notification")
    return await _acknowledge(db, event_id, account_id, "push")


async def acknowledge_seen(db: AsyncSession, p: Principal, position: int) -> AckOut:
    event_id = await db.scalar(
        text("SELECT id FROM events WHERE position = :p AND :a = ANY(account_ids)"), {"p": position, "a": p.account_id}
    )
    if event_id is None:
        raise NotFound("event")
    return await _acknowledge(db, event_id, p.account_id, "websocket")


# ---------------------------------------------------------------------------------------------- the person's view


async def channels(db: AsyncSession, settings: Settings, p: Principal) -> Channels:
    row = (
        await db.execute(
            text(
                "SELECT a.phone, (SELECT count(*) FROM push_subscriptions s WHERE s.account_id = a.id) AS devices,"
                " (SELECT used FROM sms_counters c WHERE c.day = :day AND c.scope = :scope) AS today"
                " FROM accounts a WHERE a.id = :a"
            ),
            {"a": p.account_id, "day": beijing_day(), "scope": str(p.account_id)},
        )
    ).one()
    quiet = settings.notify.quiet_hours
    return Channels(
        push_devices=int(row.devices),
        phone_masked=mask_phone(row.phone) if row.phone else None,
        sms_enabled=settings.notify.sms_backend != "log",
        fallback_after_s=settings.notify.sms_fallback_after_s,
        quiet_hours=f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else None,
        sms_today=int(row.today or 0),
        sms_daily_cap=settings.notify.sms_daily_cap_per_account,
    )


async def delivery_log(db: AsyncSession, p: Principal, limit: int) -> list[LogEntry]:
    rows = (
        await db.execute(
            text(
                "SELECT d.channel, d.status, d.detail, d.updated_at, e.position, e.type, e.subject_type, e.subject_id,"
                " e.urgency, e.payload, e.created_at"
                " FROM notify_deliveries d JOIN events e ON e.id = d.event_id"
                " WHERE d.account_id = :a ORDER BY d.id DESC LIMIT :n"
            ),
            {"a": p.account_id, "n": limit},
        )
    ).all()
    out = []
    for r in rows:
        message = message_for(r)
        out.append(
            LogEntry(
                event=r.position,
                event_type=r.type,
                title_zh=message.title_zh,
                url=message.url,
                channel=r.channel,
                status=r.status,
                status_zh=STATUS_ZH.get((r.channel, r.status), r.status),
                detail=r.detail,
                at=r.updated_at,
            )
        )
    return out


async def open_link(db: AsyncSession, p: Principal, token: str) -> LinkOut:
    """Where an SMS link leads; opening it counts as acknowledged. Only the person it was sent to may."""
    row = (
        await db.execute(
            text(
                "UPDATE notify_deliveries d SET status = CASE WHEN d.status = 'sent' THEN 'acknowledged' ELSE d.status END,"
                " updated_at = now() FROM events e"
                " WHERE d.link_token = :t AND d.account_id = :a AND d.channel = 'sms' AND e.id = d.event_id"
                " RETURNING e.position, e.type, e.subject_type, e.subject_id, e.urgency, e.payload, e.created_at"
            ),
            {"t": token, "a": p.account_id},
        )
    ).one_or_none()
    if row is None:
        raise NotFound("link")
    return LinkOut(url=message_for(row).url)


# ---------------------------------------------------------------------------------------------- admins


async def stats(db: AsyncSession, settings: Settings, days: int) -> Stats:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    rows = (
        await db.execute(
            text(
                "SELECT (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, channel, status, count(*) AS n"
                " FROM notify_deliveries WHERE created_at >= :since GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3"
            ),
            {"since": since},
        )
    ).all()
    used: Any = await db.scalar(
        text("SELECT used FROM sms_counters WHERE day = :d AND scope = 'city'"), {"d": beijing_day()}
    )
    return Stats(
        days=days,
        counts=[ChannelDayCount(day=r.day, channel=r.channel, status=r.status, count=int(r.n)) for r in rows],
        sms_budget_today=settings.notify.sms_daily_budget,
        sms_used_today=int(used or 0),
    )
