"""Signing in with WeChat (网页授权), binding an identity to a phone-verified account, the person's
subscriptions, and the JS-SDK page signature.

The flow:

1. ``start_authorization``: a random ``state`` (stored as a digest) bound to this browser by a random
   nonce in an HttpOnly cookie, valid ten minutes, single use; the browser goes to WeChat's authorize
   page with ``snsapi_base`` (silent) or ``snsapi_userinfo`` (WeChat asks the person).
2. ``finish_authorization``: WeChat sends the browser back with ``code`` and ``state``. The state is
   consumed in one UPDATE that also checks the browser's nonce and the expiry, so a forged, replayed
   or foreign state is refused. The code becomes an openid (and unionid, and for ``snsapi_userinfo``
   a nickname). A bound identity signs its account in; an unknown one becomes a pending binding.
3. ``bind``: the pending binding (another HttpOnly cookie, ten minutes) plus a phone number verified
   by SMS code (the sign-in code of ``backend.accounts``) binds the identity to that account, once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts import service as accounts
from backend.accounts.models import Account
from backend.core import tx
from backend.core.config import WECHAT_EVENT_KINDS, Settings
from backend.core.errors import BadRequest, Conflict, NotFound, Unauthenticated, Unavailable
from backend.core.maintenance import periodic
from backend.core.security import new_session_token, token_digest
from backend.wechat import tokens
from backend.wechat.api import WeChatApi, WeChatError, WeChatUnavailable, log, mask_openid
from backend.wechat.models import WeChatIdentity, WeChatOAuthState, WeChatPendingBinding, WeChatSubscription

STATE_TTL = dt.timedelta(minutes=10)
PENDING_TTL = dt.timedelta(minutes=10)
SCOPES = {"base": "snsapi_base", "userinfo": "snsapi_userinfo"}
EVENT_KIND_LABELS_ZH = {
    "enrolment": "入托申请进度",
    "bookings": "托育预约提醒",
    "notices": "通知公告",
    "complaints": "投诉处理进度",
}


def require_enabled(settings: Settings) -> None:
    if not settings.wechat.enabled:
        raise NotFound(
            "WeChat sign-in",
            detail_zh="未开通微信登录",
            code="wechat_not_enabled",
        )


def safe_next(raw: str | None) -> str:
    """A path of the app to return to (never another site, never the API)."""
    if not raw:
        return "/"
    if (
        len(raw) > 200
        or not raw.startswith("/")
        or raw.startswith("//")
        or raw.startswith("/api")
        or any(c in raw for c in "\\\r\n\t")
        or urlsplit(raw).netloc
    ):
        raise BadRequest("next must be a path of the app", detail_zh="跳转地址无效", code="invalid_next")
    return raw


# ------------------------------------------------------------------------------------------ sign-in


async def start_authorization(db: AsyncSession, settings: Settings, scope: str, next_path: str) -> tuple[str, str]:
    """The URL of WeChat's authorize page and the browser nonce to set as a cookie."""
    require_enabled(settings)
    state, nonce = secrets.token_hex(16), new_session_token()
    db.add(
        WeChatOAuthState(
            state_hash=token_digest(state),
            browser_hash=token_digest(nonce),
            next_path=next_path,
            expires_at=dt.datetime.now(dt.UTC) + STATE_TTL,
        )
    )
    await tx.commit_sign_in_step(db)
    query = urlencode(
        {
            "appid": settings.wechat.app_id,
            "redirect_uri": settings.public_base_url + "/api/wechat/callback",
            "response_type": "code",
            "scope": SCOPES[scope],
            "state": state,
        }
    )
    return f"{settings.wechat.oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect", nonce


@dataclass(frozen=True, slots=True)
class Authorized:
    next_path: str
    account: Account | None = None  # signed in
    pending_token: str | None = None  # to bind: set as a cookie, then POST /api/wechat/bind


_STATE_REFUSED = {
    "detail": "The sign-in link is invalid, used or expired; start again",
    "detail_zh": "微信登录已失效，请重新进入",
    "code": "wechat_state_invalid",
}


async def finish_authorization(
    db: AsyncSession, settings: Settings, api: WeChatApi, code: str | None, state: str | None, nonce: str | None
) -> Authorized:
    require_enabled(settings)
    if not state or not nonce or len(state) > 128:
        raise BadRequest(**_STATE_REFUSED)
    next_path = await db.scalar(
        update(WeChatOAuthState)
        .where(
            WeChatOAuthState.state_hash == token_digest(state),
            WeChatOAuthState.browser_hash == token_digest(nonce),
            WeChatOAuthState.used_at.is_(None),
            WeChatOAuthState.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(WeChatOAuthState.next_path)
    )
    await tx.commit_before_refusing(db)  # used up whatever happens next
    if next_path is None:
        raise BadRequest(**_STATE_REFUSED)
    if not code:
        raise Unauthenticated("WeChat authorisation was declined", detail_zh="您未同意微信授权", code="wechat_declined")
    try:
        grant = await api.oauth_exchange(code[:128])
        openid, scope = grant["openid"], grant.get("scope", "snsapi_base")
        unionid, nickname = grant.get("unionid"), None
        if scope == "snsapi_userinfo":
            info = await api.userinfo(grant["access_token"], openid)
            unionid = info.get("unionid") or unionid
            nickname = (str(info.get("nickname") or "")[:64]) or None
    except WeChatError as exc:
        raise BadRequest(
            "WeChat refused the authorisation code", detail_zh="微信授权失败，请重新进入", code="wechat_code_invalid"
        ) from exc
    except (WeChatUnavailable, KeyError) as exc:
        raise Unavailable("WeChat could not be reached", detail_zh="暂时无法连接微信，请稍后重试") from exc
    scope = scope if scope in SCOPES.values() else "snsapi_base"

    identity = (
        await db.execute(select(WeChatIdentity).where(WeChatIdentity.openid == openid).with_for_update())
    ).scalar_one_or_none()
    if identity is not None:
        account = await db.get(Account, identity.account_id)
        if account is not None and account.disabled_at is None:
            identity.last_sign_in_at = dt.datetime.now(dt.UTC)
            identity.unionid = unionid or identity.unionid
            identity.nickname = nickname or identity.nickname
            log.info("WeChat sign-in of %s", mask_openid(openid))
            return Authorized(next_path, account=account)
    token = new_session_token()
    db.add(
        WeChatPendingBinding(
            token_hash=token_digest(token),
            openid=openid,
            unionid=unionid,
            nickname=nickname,
            scope=scope,
            next_path=next_path,
            expires_at=dt.datetime.now(dt.UTC) + PENDING_TTL,
        )
    )
    await tx.commit_sign_in_step(db)
    return Authorized(next_path, pending_token=token)


async def pending_binding(db: AsyncSession, settings: Settings, token: str | None) -> WeChatPendingBinding:
    require_enabled(settings)
    row = None
    if token:
        row = (
            await db.execute(
                select(WeChatPendingBinding)
                .where(
                    WeChatPendingBinding.token_hash == token_digest(token),
                    WeChatPendingBinding.used_at.is_(None),
                    WeChatPendingBinding.expires_at > func.now(),
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
    if row is None:
        raise Conflict(
            "No WeChat identity waits for binding in this browser; sign in with WeChat again",
            detail_zh="微信授权已失效，请重新进入",
            code="wechat_binding_expired",
        )
    return row


async def bind(
    db: AsyncSession, settings: Settings, token: str | None, phone: str, code: str, client: str
) -> tuple[Account, str]:
    """Bind the pending identity to the account of the SMS-verified phone (created on first use)."""
    pending = await pending_binding(db, settings, token)
    account = await accounts.verify_code(db, settings, phone, code, client)
    if await db.get(WeChatIdentity, account.id) is not None:
        await tx.commit_before_refusing(db)  # the code is used up
        raise Conflict(
            "This phone number's account is bound to another WeChat already",
            detail_zh="该手机号已绑定其他微信，请先在“我的”中解除绑定",
            code="wechat_account_bound",
        )
    pending.used_at = dt.datetime.now(dt.UTC)
    try:
        async with db.begin_nested():
            db.add(
                WeChatIdentity(
                    account_id=account.id,
                    openid=pending.openid,
                    unionid=pending.unionid,
                    nickname=pending.nickname,
                    scope=pending.scope,
                    last_sign_in_at=dt.datetime.now(dt.UTC),
                )
            )
    except IntegrityError as exc:
        await tx.commit_before_refusing(db)
        raise Conflict(
            "This WeChat is bound to another account",
            detail_zh="该微信已绑定其他账号",
            code="wechat_identity_bound",
        ) from exc
    log.info("WeChat identity %s bound", mask_openid(pending.openid))
    return account, pending.next_path


# ------------------------------------------------------------------------------- the person's own


async def identity_of(db: AsyncSession, account_id: uuid.UUID) -> WeChatIdentity | None:
    return await db.get(WeChatIdentity, account_id)


async def subscribed_kinds(db: AsyncSession, account_id: uuid.UUID) -> list[str]:
    rows = await db.scalars(
        select(WeChatSubscription.event_kind)
        .where(WeChatSubscription.account_id == account_id)
        .order_by(WeChatSubscription.event_kind)
    )
    return list(rows)


async def unbind(db: AsyncSession, settings: Settings, account_id: uuid.UUID) -> bool:
    require_enabled(settings)
    deleted = (await db.execute(delete(WeChatIdentity).where(WeChatIdentity.account_id == account_id))).rowcount
    return bool(deleted)


async def set_subscriptions(db: AsyncSession, settings: Settings, account_id: uuid.UUID, kinds: list[str]) -> None:
    """The event kinds the person accepted in WeChat's dialog (empty: revoke them all)."""
    require_enabled(settings)
    identity = (
        await db.execute(select(WeChatIdentity).where(WeChatIdentity.account_id == account_id).with_for_update())
    ).scalar_one_or_none()
    if identity is None:
        raise Conflict("Bind WeChat first", detail_zh="请先绑定微信", code="wechat_not_bound")
    wanted = set(kinds)
    unknown = wanted - set(WECHAT_EVENT_KINDS)
    if unknown:
        raise BadRequest("Unknown event kind", detail_zh="订阅类型无效", code="invalid_event_kind")
    await db.execute(delete(WeChatSubscription).where(WeChatSubscription.account_id == account_id))
    db.add_all(WeChatSubscription(account_id=account_id, event_kind=k) for k in sorted(wanted))
    if wanted:  # accepting again in WeChat's dialog turns the channel back on
        identity.channel_on, identity.channel_off_reason, identity.channel_off_at = True, None, None
    await db.flush()


# ----------------------------------------------------------------------------------------- JS-SDK


def page_url(settings: Settings, raw: str) -> str:
    """The page to sign: one of the app's own origins, without its fragment (as WeChat signs it)."""
    parts = urlsplit(raw) if len(raw) <= 1000 else None
    origins = {settings.public_base_url, *settings.allowed_origins}
    if parts is None or f"{parts.scheme}://{parts.netloc}" not in origins or any(c in raw for c in " \r\n\t\\"):
        raise BadRequest(
            "url must be a page of this app", detail_zh="页面地址不属于本平台", code="wechat_url_not_allowed"
        )
    return raw.split("#", 1)[0]


def jssdk_signature(ticket: str, noncestr: str, timestamp: int, url: str) -> str:
    """SHA-1 of ``jsapi_ticket=…&noncestr=…&timestamp=…&url=…`` (the keys in this order)."""
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - WeChat's documented algorithm


async def jssdk_config(sessions: tokens.Sessions, api: WeChatApi, settings: Settings, raw_url: str) -> dict:
    require_enabled(settings)
    url = page_url(settings, raw_url)
    try:
        ticket = await tokens.jsapi_ticket(sessions, api)
    except (WeChatError, WeChatUnavailable) as exc:
        raise Unavailable("WeChat could not be reached", detail_zh="暂时无法连接微信，请稍后重试") from exc
    noncestr, timestamp = secrets.token_hex(8), int(time.time())
    return {
        "app_id": settings.wechat.app_id,
        "timestamp": timestamp,
        "nonce_str": noncestr,
        "signature": jssdk_signature(ticket, noncestr, timestamp, url),
        "url": url,
    }


# ------------------------------------------------------------------------------------ housekeeping


@periodic("wechat_states")
async def purge_states(db: AsyncSession, _settings: Settings) -> int:
    """Sign-in states and pending bindings (openids without an account) go an hour after expiry."""
    cutoff = func.now() - dt.timedelta(hours=1)
    a = (await db.execute(delete(WeChatOAuthState).where(WeChatOAuthState.expires_at < cutoff))).rowcount or 0
    b = (await db.execute(delete(WeChatPendingBinding).where(WeChatPendingBinding.expires_at < cutoff))).rowcount
    return a + (b or 0)
