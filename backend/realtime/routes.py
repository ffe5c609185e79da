"""Live updates over HTTP: WebSocket tickets, Web Push devices, notification preferences."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Controller, Litestar, get, post, put
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import JSONBody

from backend.accounts.sessions import issue_ticket
from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.realtime import permissions as P
from backend.realtime import push, service
from backend.realtime.hub import Hub
from backend.realtime.schemas import (
    Preferences,
    PreferencesIn,
    SubscriptionIn,
    SubscriptionOut,
    Ticket,
    UnsubscribeIn,
    VapidKey,
)
from backend.realtime.ws import live

TAGS = ["realtime · 实时"]


class RealtimeController(Controller):
    path = "/api"
    tags = TAGS

    @post(
        "/realtime/ticket",
        opt=requires(P.TICKET),
        responses=error_responses(401, 403),
        summary="A one-time ticket for /ws / 实时连接凭证",
    )
    async def ticket(self, db: Db, caller: CallerDep) -> Ticket:
        """Valid 30 seconds, once: open `/ws?ticket=…` with it (for clients that cannot send the cookie)."""
        value, expires = await issue_ticket(db, caller.principal.session_id)
        await db.commit()
        return Ticket(ticket=value, expires_at=expires, url=f"/ws?ticket={value}")

    @get("/push/vapid-public-key", opt=requires(P.VAPID_KEY), summary="Web Push public key / 推送公钥")
    async def vapid_public_key(self, state: State) -> VapidKey:
        return VapidKey(public_key=state.vapid_public_key)

    @post(
        "/push/subscriptions",
        opt=requires(P.SUBSCRIBE),
        responses=error_responses(401, 403, 422),
        summary="Subscribe this device / 开启本设备推送",
    )
    async def subscribe(
        self, db: Db, state: State, caller: CallerDep, data: JSONBody[SubscriptionIn]
    ) -> SubscriptionOut:
        out = await service.subscribe(db, state.settings, caller.principal, data)
        await db.commit()
        return out

    @get(
        "/push/subscriptions",
        opt=requires(P.LIST_SUBSCRIPTIONS),
        responses=error_responses(401, 403),
        summary="My subscribed devices / 已开启推送的设备",
    )
    async def subscriptions(self, db: Db, caller: CallerDep) -> list[SubscriptionOut]:
        return await service.my_subscriptions(db, caller.principal)

    @post(
        "/push/unsubscribe",
        opt=requires(P.UNSUBSCRIBE),
        responses=error_responses(401, 403, 404),
        status_code=204,
        summary="Unsubscribe a device / 关闭设备推送",
    )
    async def unsubscribe(self, db: Db, caller: CallerDep, data: JSONBody[UnsubscribeIn]) -> None:
        await service.unsubscribe(db, caller.principal, data.endpoint)
        await db.commit()

    @get(
        "/me/notification-preferences",
        opt=requires(P.READ_PREFERENCES),
        responses=error_responses(401, 403),
        summary="Notification settings / 通知设置",
    )
    async def preferences(self, db: Db, caller: CallerDep) -> Preferences:
        return await service.preferences(db, caller.account_id)

    @put(
        "/me/notification-preferences",
        opt=requires(P.SET_PREFERENCES),
        responses=error_responses(401, 403, 422),
        summary="Change notification settings / 修改通知设置",
    )
    async def set_preferences(
        self,
        db: Db,
        caller: CallerDep,
        data: JSONBody[PreferencesIn],
    ) -> Preferences:
        """Per category, for WebSocket and Web Push. Urgent (child-safety) alerts are always delivered."""
        out = await service.set_preferences(db, caller.principal, data.preferences)
        await db.commit()
        return out


@contextlib.asynccontextmanager
async def realtime_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The process's hub (LISTEN + fan-out to sockets) and, unless PUSH_WORKER=false, its push worker."""
    settings = app.state.settings
    alchemy = app.state.alchemy
    maker = alchemy.create_session_maker()  # the engine's own sessions (the worker only reads committed rows)
    hub = Hub(
        alchemy.get_engine().url.render_as_string(hide_password=False),
        # At call time: tests swap the app's session maker for one inside their transaction.
        lambda: app.state.get(alchemy.session_maker_app_state_key, maker)(),
    )
    app.state.hub = hub
    app.state.vapid_public_key = push.public_key(settings)
    await hub.start()
    worker = push.PushWorker(settings, maker, hub.new_events) if settings.push_worker else None
    if worker is not None:
        await worker.start()
    app.state.push_worker = worker
    try:
        yield
    finally:
        if worker is not None:
            await worker.stop()
        await hub.stop()


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [RealtimeController, live],
    tags=[Tag(name=TAGS[0], description="WebSocket tickets, Web Push devices, notification settings")],
    lifespans=[realtime_lifespan],
)
