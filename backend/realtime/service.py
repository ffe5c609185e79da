"""Push subscriptions, notification preferences and WebSocket tickets."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.authz import Principal
from backend.core.config import Settings
from backend.core.errors import NotFound, RuleViolation
from backend.realtime.egress import private_host, resolves_private
from backend.realtime.models import CATEGORIES, NotificationPreference, PushSubscription
from backend.realtime.schemas import Preference, Preferences, SubscriptionIn, SubscriptionOut

MAX_SUBSCRIPTIONS_PER_ACCOUNT = 20


def _host_port(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = f"{host}:{parts.port}" if parts.port else host
    return host, port


def check_endpoint(settings: Settings, endpoint: str) -> None:
    """Push services are public https endpoints; anything else is refused (SSRF), except the test
    allowlist (PUSH_ENDPOINT_ALLOWLIST, refused in production)."""
    try:
        host, host_port = _host_port(endpoint)
    except ValueError:  # e.g. a port above 65535, which the schema's URL pattern lets through
        raise RuleViolation(
            "The push endpoint is not a valid URL", detail_zh="推送地址无效", code="endpoint_invalid"
        ) from None
    if host_port in settings.push_endpoint_allowlist or host in settings.push_endpoint_allowlist:
        return
    if urlsplit(endpoint).scheme != "https":
        raise RuleViolation(
            "Push endpoints must use https", detail_zh="推送地址必须使用https", code="endpoint_not_https"
        )
    if private_host(host):
        raise _not_public()


def _not_public() -> RuleViolation:
    return RuleViolation(
        "Push endpoints must be public addresses",
        detail_zh="推送地址不能是内网或本机地址",
        code="endpoint_not_public",
    )


async def check_endpoint_resolves_public(settings: Settings, endpoint: str) -> None:
    """At subscribe: a name that resolves to a private address is refused now (a name that cannot be
    resolved yet is kept: the worker checks the address of every connection it makes)."""
    parts = urlsplit(endpoint)
    host, host_port = _host_port(endpoint)
    if host_port in settings.push_endpoint_allowlist or host in settings.push_endpoint_allowlist:
        return
    if await resolves_private(host, parts.port or 443):
        raise _not_public()


async def subscribe(db: AsyncSession, settings: Settings, p: Principal, data: SubscriptionIn) -> SubscriptionOut:
    check_endpoint(settings, data.endpoint)
    await check_endpoint_resolves_public(settings, data.endpoint)
    count = await db.scalar(
        select(func.count()).select_from(PushSubscription).where(PushSubscription.account_id == p.account_id)
    )
    if (count or 0) >= MAX_SUBSCRIPTIONS_PER_ACCOUNT:
        raise RuleViolation(
            f"At most {MAX_SUBSCRIPTIONS_PER_ACCOUNT} devices per account",
            detail_zh=f"每个账号最多{MAX_SUBSCRIPTIONS_PER_ACCOUNT}台设备",
            code="too_many_devices",
        )
    # An endpoint belongs to one browser profile: re-subscribing moves it to the caller.
    row = (
        await db.execute(
            insert(PushSubscription)
            .values(
                id=uuid.uuid4(),
                account_id=p.account_id,
                endpoint=data.endpoint,
                p256dh=data.keys.p256dh,
                auth=data.keys.auth,
            )
            .on_conflict_do_update(
                index_elements=["endpoint"],
                set_={"account_id": p.account_id, "p256dh": data.keys.p256dh, "auth": data.keys.auth},
            )
            .returning(PushSubscription.id, PushSubscription.endpoint, PushSubscription.created_at)
        )
    ).one()
    return SubscriptionOut(id=row.id, endpoint=row.endpoint, created_at=row.created_at)


async def unsubscribe(db: AsyncSession, p: Principal, endpoint: str) -> None:
    result = await db.execute(
        delete(PushSubscription).where(
            PushSubscription.account_id == p.account_id, PushSubscription.endpoint == endpoint
        )
    )
    if not result.rowcount:
        raise NotFound("subscription")


async def my_subscriptions(db: AsyncSession, p: Principal) -> list[SubscriptionOut]:
    rows = await db.execute(
        select(PushSubscription)
        .where(PushSubscription.account_id == p.account_id)
        .order_by(PushSubscription.created_at)
    )
    return [SubscriptionOut(id=s.id, endpoint=s.endpoint, created_at=s.created_at) for s in rows.scalars()]


async def preferences(db: AsyncSession, account_id: uuid.UUID) -> Preferences:
    stored = {
        p.category: p
        for p in (
            await db.execute(select(NotificationPreference).where(NotificationPreference.account_id == account_id))
        ).scalars()
    }
    return Preferences(
        preferences=[
            Preference(
                category=c,  # type: ignore[arg-type]
                websocket=stored[c].websocket if c in stored else True,
                push=stored[c].push if c in stored else True,
                sms=stored[c].sms if c in stored else True,
                wechat=stored[c].wechat if c in stored else True,
            )
            for c in CATEGORIES
        ]
    )


async def set_preferences(db: AsyncSession, p: Principal, items: list[Preference]) -> Preferences:
    if len({i.category for i in items}) != len(items):
        raise RuleViolation("A category is listed twice", detail_zh="通知类别重复", code="duplicate_category")
    for item in items:
        changes = {"websocket": item.websocket, "push": item.push}
        if item.sms is not None:
            changes["sms"] = item.sms
        if item.wechat is not None:
            changes["wechat"] = item.wechat
        await db.execute(
            insert(NotificationPreference)
            .values(account_id=p.account_id, category=item.category, **changes)
            .on_conflict_do_update(index_elements=["account_id", "category"], set_=changes)
        )
    # Open sockets of this account pick the change up at once (the hubs listen on dq_prefs).
    await db.execute(text("SELECT pg_notify('dq_prefs', :account)"), {"account": str(p.account_id)})
    return await preferences(db, p.account_id)


async def muted_categories(db: AsyncSession, account_id: uuid.UUID, *, channel: str) -> set[str]:
    column = NotificationPreference.websocket if channel == "websocket" else NotificationPreference.push
    rows = await db.execute(
        select(NotificationPreference.category).where(NotificationPreference.account_id == account_id, ~column)
    )
    return set(rows.scalars())
