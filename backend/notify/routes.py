"""Notification routes: acknowledgements, the person's channels and delivery log, SMS links, counts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, Litestar, get, post
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.notify import jobs as _jobs  # noqa: F401 (registers the periodic jobs)
from backend.notify import permissions as P
from backend.notify import service
from backend.notify.schemas import AckIn, AckOut, Channels, LinkOut, LogEntry, SeenIn, Stats
from backend.notify.worker import NotifyWorker

TAGS = ["notifications · 通知送达"]
LinkToken = Annotated[str, PathParameter(min_length=8, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


class NotifyController(Controller):
    path = "/api"
    tags = TAGS

    @post(
        "/notify/ack",
        opt=requires(P.ACK),
        responses=error_responses(404, 422),
        status_code=200,
        summary="The device showed a notification / 通知已在设备上显示",
    )
    async def ack(self, db: Db, state: State, data: JSONBody[AckIn]) -> AckOut:
        """Sent by the service worker after ``showNotification``; the token comes from the push payload.
        A critical event's SMS fallback is then not sent."""
        out = await service.acknowledge_token(db, state.settings, data.token)
        await db.commit()
        return out

    @post(
        "/me/notifications/seen",
        opt=requires(P.SEEN),
        responses=error_responses(401, 403, 404, 422),
        status_code=200,
        summary="The open app showed an event / 应用内已查看",
    )
    async def seen(self, db: Db, caller: CallerDep, data: JSONBody[SeenIn]) -> AckOut:
        out = await service.acknowledge_seen(db, caller.principal, data.event)
        await db.commit()
        return out

    @get(
        "/me/notification-channels",
        opt=requires(P.CHANNELS),
        responses=error_responses(401, 403),
        summary="What can reach me / 我的通知方式",
    )
    async def channels(self, db: Db, state: State, caller: CallerDep) -> Channels:
        return await service.channels(db, state.settings, caller.principal)

    @get(
        "/me/notification-log",
        opt=requires(P.LOG),
        responses=error_responses(401, 403, 422),
        summary="How my notifications were delivered / 通知送达记录",
    )
    async def log(
        self,
        db: Db,
        caller: CallerDep,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 30,
    ) -> list[LogEntry]:
        return await service.delivery_log(db, caller.principal, limit)

    @get(
        "/notify/links/{token:str}",
        opt=requires(P.LINK),
        responses=error_responses(401, 403, 404, 422),
        summary="Where an SMS link leads / 短信链接",
    )
    async def link(self, db: Db, caller: CallerDep, token: LinkToken) -> LinkOut:
        out = await service.open_link(db, caller.principal, token)
        await db.commit()
        return out

    @get(
        "/admin/notification-stats",
        opt=requires(P.STATS),
        responses=error_responses(401, 403, 422),
        summary="Deliveries per channel and day / 各渠道每日送达统计",
    )
    async def stats(self, db: Db, state: State, days: Annotated[int, QueryParameter(ge=1, le=90)] = 14) -> Stats:
        return await service.stats(db, state.settings, days)


@contextlib.asynccontextmanager
async def notify_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The process's notification worker (unless NOTIFY_WORKER=false); the SMS sender is closed at the end."""
    settings = app.state.settings
    worker = None
    if settings.notify.notify_worker:
        worker = NotifyWorker(settings, app.state.alchemy.create_session_maker(), app.state.sms)
        await worker.start()
    app.state.notify_worker = worker
    try:
        yield
    finally:
        if worker is not None:
            await worker.stop()
        with contextlib.suppress(Exception):
            await app.state.sms.close()


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [NotifyController],
    tags=[Tag(name=TAGS[0], description="Acknowledgements, delivery log, SMS links and counts")],
    lifespans=[notify_lifespan],
)
