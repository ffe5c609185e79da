"""WeChat routes: status, sign-in (authorize → callback → bind), JS-SDK config, and 我的 → 微信."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Tag
from litestar.params import JSONBody, QueryParameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts import service as accounts
from backend.accounts.routes import session_response
from backend.accounts.schemas import SessionOut
from backend.accounts.sessions import session_cookies
from backend.core.authz import requires
from backend.core.config import Settings
from backend.core.deps import CallerDep, Db, client_address
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.wechat import permissions as P
from backend.wechat import service
from backend.wechat.api import WeChatApi
from backend.wechat.schemas import (
    BindIn,
    EventKindOut,
    JsSdkConfigOut,
    MyWeChatOut,
    SubscriptionsIn,
    Unbound,
    WeChatStatusOut,
)

STATE_COOKIE = "dq_wechat_state"
BIND_COOKIE = "dq_wechat_bind"
_COOKIE_PATH = "/api/wechat"


def _sessions(state: State) -> async_sessionmaker[AsyncSession]:
    return state[state.alchemy.session_maker_app_state_key]  # type: ignore[no-any-return]


def _cookie(settings: Settings, key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=max_age,
        path=_COOKIE_PATH,
    )


def _expired(settings: Settings, key: str) -> Cookie:
    return _cookie(settings, key, "", 0)


class WeChatController(Controller):
    path = "/api/wechat"
    tags = ["wechat · 微信"]

    @get("/status", opt=requires(P.STATUS), summary="Is WeChat available / 微信功能是否开通")
    async def status(self, state: State) -> WeChatStatusOut:
        wechat = state.settings.wechat
        return WeChatStatusOut(
            enabled=wechat.enabled,
            app_id=wechat.app_id or None,
            event_kinds=[
                EventKindOut(kind=k, label_zh=service.EVENT_KIND_LABELS_ZH[k], template_id=t.template_id)  # type: ignore[arg-type]
                for k, t in wechat.templates
            ]
            if wechat.enabled
            else [],
        )

    @get(
        "/authorize",
        opt=requires(P.AUTHORIZE),
        status_code=302,
        responses=error_responses(400, 404),
        summary="Start signing in with WeChat / 微信授权登录",
    )
    async def authorize(
        self,
        db: Db,
        state: State,
        scope_: Annotated[
            Literal["base", "userinfo"], QueryParameter(name="scope", description="base: silent; userinfo: asks")
        ] = "base",
        next_: Annotated[
            str | None,
            QueryParameter(
                name="next", max_length=200, pattern=r"^/(?!/|api)[^\\\s]*$", description="A path of the app"
            ),
        ] = None,
    ) -> Redirect:
        """Redirects to WeChat's authorize page (``snsapi_base`` silently, ``snsapi_userinfo`` asks the
        person), with a single-use ``state`` bound to this browser by an HttpOnly cookie."""
        settings: Settings = state.settings
        url, nonce = await service.start_authorization(db, settings, scope_, service.safe_next(next_))
        return Redirect(
            url,
            status_code=302,
            cookies=[_cookie(settings, STATE_COOKIE, nonce, int(service.STATE_TTL.total_seconds()))],
            headers={"Cache-Control": "no-store"},
        )

    @get(
        "/callback",
        opt=requires(P.CALLBACK),
        status_code=302,
        responses=error_responses(400, 401, 404, 503),
        summary="Return from WeChat's authorisation / 微信授权回调",
    )
    async def callback(
        self,
        db: Db,
        state: State,
        request: Request[Any, Any, Any],
        code: Annotated[str | None, QueryParameter(max_length=128)] = None,
        state_: Annotated[str | None, QueryParameter(name="state", max_length=128)] = None,
    ) -> Redirect:
        """A bound WeChat is signed in and sent on; an unbound one is sent to the binding page
        (``/wechat/bind``), where the phone is verified once by SMS code."""
        settings: Settings = state.settings
        async with WeChatApi(settings.wechat) as api:
            done = await service.finish_authorization(
                db, settings, api, code, state_, request.cookies.get(STATE_COOKIE)
            )
        cookies = [_expired(settings, STATE_COOKIE)]
        if done.account is not None:
            token, session = await accounts.start_session(db, settings, done.account)
            await db.commit()
            cookies += session_cookies(settings, token, session)
            target = done.next_path
        else:
            assert done.pending_token is not None
            cookies.append(_cookie(settings, BIND_COOKIE, done.pending_token, int(service.PENDING_TTL.total_seconds())))
            target = "/wechat/bind?next=" + quote(done.next_path, safe="/")
        return Redirect(target, status_code=302, cookies=cookies, headers={"Cache-Control": "no-store"})

    @post(
        "/bind",
        status_code=200,
        opt=requires(P.BIND),
        responses=error_responses(400, 401, 404, 409, 422, 429),
        summary="Bind WeChat to a phone verified by SMS code / 绑定手机号",
        dependencies={"client": Provide(client_address, sync_to_thread=False)},
    )
    async def bind(
        self,
        db: Db,
        state: State,
        request: Request[Any, Any, Any],
        data: JSONBody[BindIn],
        client: NamedDependency[str],
    ) -> Response[SessionOut]:
        """After WeChat's authorisation in this browser: binds that WeChat to the account of this phone
        (created on first use) and signs in. From then on, opening the app in WeChat signs in."""
        settings: Settings = state.settings
        account, _next = await service.bind(
            db, settings, request.cookies.get(BIND_COOKIE), data.phone, data.code, client
        )
        response = await session_response(db, settings, account)
        response.cookies.append(_expired(settings, BIND_COOKIE))
        return response

    @get(
        "/jssdk-config",
        opt=requires(P.JSSDK_CONFIG),
        responses=error_responses(400, 404, 503),
        summary="Sign a page for the JS-SDK / JS-SDK 签名",
    )
    async def jssdk_config(
        self,
        state: State,
        url: Annotated[str, QueryParameter(min_length=8, max_length=1000, description="The page's URL")],
    ) -> JsSdkConfigOut:
        """Only pages of this app's own origins are signed (the fragment is dropped, as WeChat does)."""
        settings: Settings = state.settings
        async with WeChatApi(settings.wechat) as api:
            config = await service.jssdk_config(_sessions(state), api, settings, url)
        return JsSdkConfigOut(**config)


class MyWeChatController(Controller):
    path = "/api/me/wechat"
    tags = ["wechat · 微信"]

    async def _mine(self, db: AsyncSession, settings: Settings, account_id: Any) -> MyWeChatOut:
        identity = await service.identity_of(db, account_id) if settings.wechat.enabled else None
        if identity is None:
            return MyWeChatOut(enabled=settings.wechat.enabled, bound=False)
        return MyWeChatOut(
            enabled=True,
            bound=True,
            nickname=identity.nickname,
            scope=identity.scope,
            bound_at=identity.created_at,
            channel_on=identity.channel_on,
            channel_off_reason=identity.channel_off_reason,
            subscriptions=await service.subscribed_kinds(db, account_id),  # type: ignore[arg-type]
        )

    @get("/", opt=requires(P.READ_MINE), responses=error_responses(401, 403), summary="My WeChat / 我的微信绑定")
    async def mine(self, db: Db, state: State, caller: CallerDep) -> MyWeChatOut:
        return await self._mine(db, state.settings, caller.account_id)

    @delete(
        "/",
        status_code=200,
        opt=requires(P.UNBIND),
        responses=error_responses(401, 403, 404),
        summary="Unbind my WeChat / 解除微信绑定",
    )
    async def unbind(self, db: Db, state: State, caller: CallerDep) -> Unbound:
        """WeChat no longer signs you in and sends you nothing; your subscriptions are forgotten."""
        unbound = await service.unbind(db, state.settings, caller.account_id)
        await db.commit()
        return Unbound(unbound=unbound)

    @put(
        "/subscriptions",
        opt=requires(P.SET_SUBSCRIPTIONS),
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Set or revoke my subscriptions / 设置或撤回订阅",
    )
    async def set_subscriptions(
        self, db: Db, state: State, caller: CallerDep, data: JSONBody[SubscriptionsIn]
    ) -> MyWeChatOut:
        await service.set_subscriptions(db, state.settings, caller.account_id, list(data.event_kinds))
        await db.commit()
        return await self._mine(db, state.settings, caller.account_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [WeChatController, MyWeChatController],
    tags=[Tag(name="wechat · 微信", description="Sign in with WeChat, subscription messages, JS-SDK")],
)
