"""Parenting guidance (育儿指导): public events, families' registrations, the hosts' desk."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.core import idempotency
from backend.core.authz import Principal, principal_of, requires
from backend.core.deps import CallerDep, Db, IdempotencyKey
from backend.core.domains import Domain
from backend.core.errors import WRITE_ERRORS, error_responses
from backend.guidance import permissions as P
from backend.guidance import service
from backend.guidance.schemas import (
    GuidanceAttendanceIn,
    GuidanceCancelEventIn,
    GuidanceEventDetail,
    GuidanceEventIn,
    GuidanceEventPage,
    GuidanceHostedEvent,
    GuidanceHostedEventDetail,
    GuidanceRegistrationIn,
    GuidanceRegistrationOut,
    KindName,
)

TAGS = ["guidance · 育儿指导"]


class GuidanceEventController(Controller):
    path = "/api/guidance/events"
    tags = TAGS

    @get("/", opt=requires(P.BROWSE), responses=error_responses(400, 422), summary="Upcoming events / 近期活动")
    async def list_events(
        self,
        db: Db,
        unit: Annotated[int | None, QueryParameter(ge=100000, le=999999, description="Unit code, e.g. 230602")] = None,
        kind: Annotated[KindName | None, QueryParameter(description="Only this kind")] = None,
        lat: Annotated[float | None, QueryParameter(ge=-90, le=90, description="Near here (WGS-84), with lng")] = None,
        lng: Annotated[
            float | None, QueryParameter(ge=-180, le=180, description="Near here (WGS-84), with lat")
        ] = None,
        radius_km: Annotated[
            float | None, QueryParameter(gt=0, le=200, description="Only within this distance (needs lat/lng)")
        ] = None,
        date_from: Annotated[dt.date | None, QueryParameter(name="from", description="Starting on or after")] = None,
        date_to: Annotated[dt.date | None, QueryParameter(name="to", description="Starting on or before")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size")] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> GuidanceEventPage:
        """Published events that have not started yet, soonest first (nearest first with lat/lng);
        `from`/`to` are local dates."""
        return await service.list_events(
            db,
            unit=unit,
            kind=kind,
            lat=None if lat is None else round(lat, 7),  # subnormal values make ll_to_earth underflow
            lng=None if lng is None else round(lng, 7),
            radius_km=radius_km,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
        )

    @get(
        "/{event_id:uuid}",
        opt=requires(P.BROWSE),
        responses=error_responses(404),
        summary="An event with its places left / 活动详情",
    )
    async def detail(
        self, db: Db, request: Request[Any, Any, Any], event_id: FromPath[uuid.UUID]
    ) -> GuidanceEventDetail:
        """Signed-in callers also see their own latest registration for the event."""
        return await service.event_detail(db, principal_of(request), event_id)

    @post("/", opt=requires(P.PUBLISH), responses=WRITE_ERRORS, summary="Publish an event / 发布育儿指导活动")
    async def publish(
        self, db: Db, state: State, caller: CallerDep, data: JSONBody[GuidanceEventIn]
    ) -> GuidanceHostedEventDetail:
        event_id = await service.publish(db, state.settings, caller.principal, data)
        await db.commit()
        return await service.hosted_event(db, caller.principal, event_id)

    @post(
        "/{event_id:uuid}/registrations",
        opt=requires(P.REGISTER),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Register the family / 报名参加",
    )
    async def register(
        self,
        db: Db,
        state: State,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[GuidanceRegistrationIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[GuidanceRegistrationOut]:
        """One place per family (account); `child_id` optionally names one of your children. Send an
        `Idempotency-Key` to make retries safe."""

        async def create() -> GuidanceRegistrationOut:
            reg_id = await service.register(db, state.settings, caller.principal, event_id, data.child_id)
            return await service.registration_view(db, reg_id)

        return await idempotency.create_once(db, request, caller.account_id, idempotency_key, data, create)


class GuidanceRegistrationController(Controller):
    path = "/api/guidance/registrations"
    tags = TAGS

    @get("/", opt=requires(P.LIST_MINE), responses=error_responses(401, 403), summary="My registrations / 我的报名")
    async def mine(self, db: Db, caller: CallerDep) -> list[GuidanceRegistrationOut]:
        return await service.my_registrations(db, caller.principal)

    @get(
        "/{registration_id:uuid}",
        opt=requires(P.READ_MINE),
        responses=error_responses(401, 403, 404),
        summary="A registration / 报名详情",
    )
    async def detail(self, db: Db, caller: CallerDep, registration_id: FromPath[uuid.UUID]) -> GuidanceRegistrationOut:
        return await service.my_registration(db, caller.principal, registration_id)

    @post(
        "/{registration_id:uuid}/cancel",
        opt=requires(P.CANCEL_MINE),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Cancel a registration / 取消报名",
    )
    async def cancel(self, db: Db, caller: CallerDep, registration_id: FromPath[uuid.UUID]) -> GuidanceRegistrationOut:
        """Until the event starts; the place goes back."""
        await service.cancel_registration(db, caller.principal, registration_id)
        await db.commit()
        return await service.registration_view(db, registration_id)


class GuidanceHostController(Controller):
    path = "/api/guidance/hosted"
    tags = TAGS

    @get("/", opt=requires(P.HOSTED), responses=error_responses(401, 403), summary="Events you host / 我主办的活动")
    async def hosted(
        self,
        db: Db,
        caller: CallerDep,
        past: Annotated[bool, QueryParameter(description="Started events, latest first")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> list[GuidanceHostedEvent]:
        """Upcoming and running events (or, with `past`, started ones), with attendance counts."""
        return await service.hosted_events(db, caller.principal, past=past, limit=limit, offset=offset)

    @get(
        "/{event_id:uuid}",
        opt=requires(P.HOSTED_READ),
        responses=error_responses(401, 403, 404),
        summary="A hosted event with its registrations / 活动报名名单",
    )
    async def detail(self, db: Db, caller: CallerDep, event_id: FromPath[uuid.UUID]) -> GuidanceHostedEventDetail:
        """Registered families as staff need them for attendance: the guardian's shown name and, when
        given, the child's name and age."""
        return await service.hosted_event(db, caller.principal, event_id)

    @post(
        "/{event_id:uuid}/cancel",
        opt=requires(P.CANCEL_EVENT),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Cancel an event / 取消活动",
    )
    async def cancel(
        self,
        db: Db,
        caller: CallerDep,
        event_id: FromPath[uuid.UUID],
        data: JSONBody[GuidanceCancelEventIn],
    ) -> GuidanceHostedEventDetail:
        """Cancels every registration and tells the families."""
        await service.cancel_event(db, caller.principal, event_id, data.reason)
        await db.commit()
        return await service.hosted_event(db, caller.principal, event_id)

    @post(
        "/{event_id:uuid}/registrations/{registration_id:uuid}/attendance",
        opt=requires(P.ATTENDANCE),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Mark attended or no-show / 登记出勤",
    )
    async def attendance(
        self,
        db: Db,
        caller: CallerDep,
        event_id: FromPath[uuid.UUID],
        registration_id: FromPath[uuid.UUID],
        data: JSONBody[GuidanceAttendanceIn],
    ) -> GuidanceHostedEventDetail:
        """From the event's start on."""
        await service.mark_attendance(db, caller.principal, event_id, registration_id, data.status)
        await db.commit()
        return await service.hosted_event(db, caller.principal, event_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [GuidanceEventController, GuidanceRegistrationController, GuidanceHostController],
    tags=[Tag(name=TAGS[0], description="Parenting guidance events: registration and attendance")],
)
