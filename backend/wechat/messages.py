"""Subscription messages (订阅消息) as a delivery channel: the WeChat side, for the delivery pipeline.

``send_subscription_message`` sends one event of one kind to one person and says what happened; the
pipeline owns the queue, retries and the delivery log. The rules:

* only a person with a bound WeChat identity, the channel on, and a subscription to the event kind;
* the message carries the fields the template maps (``WECHAT_TEMPLATES``), nothing else — the pipeline
  passes short texts such as a title, a status and a time, never a child's name (the vocabulary below
  has no field for one);
* a tap opens ``page_path`` on the app's own origin;
* 43101 (refused / not subscribed) or 40003 (not this account's openid) turns the channel off for the
  person; 40001/42001 refresh the shared access_token once and retry once; 45009/45011 tell the
  pipeline to back off (``retry_after_s``).

The caller commits (the channel switching off is written in its session).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.wechat import tokens
from backend.wechat.api import (
    RATE_LIMIT_ERRORS,
    REFUSED_ERRORS,
    TOKEN_ERRORS,
    WeChatApi,
    WeChatError,
    WeChatUnavailable,
    log,
    mask_openid,
)
from backend.wechat.models import WeChatIdentity, WeChatSubscription

# The fields the pipeline may pass. A template maps its keywords to some of them.
MESSAGE_FIELDS = frozenset({"title", "status", "time", "place", "institution", "note", "number"})
# WeChat's limits per keyword type (subscription-message documentation): characters at most.
_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "letter": 32, "name": 10, "time": 40}


class Outcome(enum.StrEnum):
    SENT = "sent"
    NOT_ENABLED = "not_enabled"  # WeChat not configured, or no template for this event kind
    NOT_BOUND = "not_bound"  # the person has no WeChat identity
    CHANNEL_OFF = "channel_off"  # switched off earlier (refused, or by the person)
    NOT_SUBSCRIBED = "not_subscribed"  # the person did not subscribe to this event kind
    REFUSED = "refused"  # WeChat said refused / not subscribed: the channel is now off
    RATE_LIMITED = "rate_limited"  # back off ``retry_after_s``
    UNAVAILABLE = "unavailable"  # WeChat unreachable: retry later
    FAILED = "failed"  # another WeChat error (``errcode``): do not retry


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    errcode: int | None = None
    retry_after_s: int | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.SENT


def _fit(keyword: str, value: str) -> str:
    kind = keyword.rstrip("0123456789")
    limit = _LIMITS.get(kind, 20)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def message_body(settings: Settings, openid: str, event_kind: str, page_path: str, fields: dict[str, str]) -> dict:
    template = settings.wechat.template(event_kind)
    if template is None:
        raise ValueError(f"no template for {event_kind}")
    unknown = set(fields) - MESSAGE_FIELDS
    if unknown:
        raise ValueError(f"fields not in the message vocabulary: {sorted(unknown)}")
    if not page_path.startswith("/") or page_path.startswith("//") or "\\" in page_path:
        raise ValueError("page_path must be a path of the app")
    data = {kw: {"value": _fit(kw, fields.get(name, "") or "-")} for kw, name in template.fields}
    return {
        "touser": openid,
        "template_id": template.template_id,
        "page": settings.public_base_url + page_path,
        "data": data,
    }


async def send_subscription_message(
    db: AsyncSession,
    account_id: uuid.UUID,
    event_kind: str,
    page_path: str,
    fields: dict[str, str],
    *,
    settings: Settings,
    api: WeChatApi,
    sessions: tokens.Sessions,
) -> SendResult:
    """Send one subscription message (see the module's docstring). ``api`` is an open ``WeChatApi``;
    ``sessions`` makes the separate, short transactions of the shared token cache."""
    if not settings.wechat.enabled or settings.wechat.template(event_kind) is None:
        return SendResult(Outcome.NOT_ENABLED)
    identity = await db.get(WeChatIdentity, account_id, populate_existing=True)
    if identity is None:
        return SendResult(Outcome.NOT_BOUND)
    if not identity.channel_on:
        return SendResult(Outcome.CHANNEL_OFF)
    subscribed = await db.scalar(
        select(WeChatSubscription.event_kind).where(
            WeChatSubscription.account_id == account_id, WeChatSubscription.event_kind == event_kind
        )
    )
    if subscribed is None:
        return SendResult(Outcome.NOT_SUBSCRIBED)
    body = message_body(settings, identity.openid, event_kind, page_path, fields)
    try:
        token = await tokens.access_token(sessions, api)
        try:
            await api.bizsend(token, body)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            await api.bizsend(await tokens.access_token(sessions, api, stale=token), body)
    except WeChatUnavailable:
        return SendResult(Outcome.UNAVAILABLE, retry_after_s=60)
    except WeChatError as exc:
        if exc.errcode in REFUSED_ERRORS:
            await switch_channel_off(db, identity, f"wechat:{exc.errcode}")
            log.info("WeChat subscription channel off for %s (errcode %s)", mask_openid(identity.openid), exc.errcode)
            return SendResult(Outcome.REFUSED, errcode=exc.errcode)
        if exc.errcode in RATE_LIMIT_ERRORS:
            return SendResult(Outcome.RATE_LIMITED, errcode=exc.errcode, retry_after_s=_backoff(exc.errcode))
        if exc.errcode in TOKEN_ERRORS:
            return SendResult(Outcome.UNAVAILABLE, errcode=exc.errcode, retry_after_s=60)
        return SendResult(Outcome.FAILED, errcode=exc.errcode)
    return SendResult(Outcome.SENT)


def _backoff(errcode: int) -> int:
    if errcode == 45009:  # the daily quota: try again after midnight (Beijing time), at the latest
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
        midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        return int((midnight - now).total_seconds())
    return 60  # the per-minute quota: "retry next minute"


async def switch_channel_off(db: AsyncSession, identity: WeChatIdentity, reason: str) -> None:
    identity.channel_on = False
    identity.channel_off_reason = reason
    identity.channel_off_at = dt.datetime.now(dt.UTC)
    await db.flush()


class WeChatSender:
    """The WeChat channel for the delivery pipeline: one HTTP session for many sends.

    ``async with WeChatSender(settings, sessions) as wechat: await wechat.send(db, account_id, kind, page, fields)``
    """

    def __init__(self, settings: Settings, sessions: tokens.Sessions) -> None:
        self.settings = settings
        self.sessions = sessions
        self.api = WeChatApi(settings.wechat)

    async def __aenter__(self) -> WeChatSender:
        await self.api.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.api.__aexit__(*exc)

    async def send(
        self, db: AsyncSession, account_id: uuid.UUID, event_kind: str, page_path: str, fields: dict[str, str]
    ) -> SendResult:
        return await send_subscription_message(
            db, account_id, event_kind, page_path, fields, settings=self.settings, api=self.api, sessions=self.sessions
        )
