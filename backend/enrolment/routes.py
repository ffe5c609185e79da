"""Enrolment: parents apply and answer offers; staff work the queue at the enrolment desk."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bookings.service import day_slots
from backend.core import idempotency
from backend.core.authz import Principal, requires
from backend.core.clock import local_today
from backend.core.deps import CallerDep, Db, IdempotencyKey
from backend.core.domains import Domain
from backend.core.errors import WRITE_ERRORS, error_responses
from backend.enrolment import permissions as P
from backend.enrolment import service
from backend.enrolment.schemas import (
    ApplicationDetail,
    ApplicationIn,
    ApplicationOut,
    Desk,
    DeskClass,
    OptionalReasonIn,
    PriorityIn,
    QueueItem,
    ReasonIn,
    SlotUse,
    StatusName,
)


async def _committed(db: AsyncSession, application_id: uuid.UUID) -> ApplicationDetail:
    """Commit the transition, then answer with the application as it now stands."""
    await db.commit()
    return await service.application_view(db, application_id)


class ApplicationController(Controller):
    path = "/api/applications"
    tags = ["enrolment · 入托申请"]

    @post(
        "/",
        opt=requires(P.APPLY),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Apply for a full-day or half-day place / 申请全日托或半日托",
    )
    async def apply(
        self,
        db: Db,
        state: State,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        data: JSONBody[ApplicationIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ApplicationDetail]:
        """The child's age on the start date must fit a class the institution runs. Send an
        `Idempotency-Key` to make retries safe."""

        async def create() -> ApplicationDetail:
            return await service.application_view(db, await service.apply(db, state.settings, caller.principal, data))

        return await idempotency.create_once(db, request, caller.account_id, idempotency_key, data, create)

    @get("/", opt=requires(P.LIST_MINE), responses=error_responses(401, 403), summary="My applications / 我的申请")
    async def mine(self, db: Db, caller: CallerDep) -> list[ApplicationOut]:
        return await service.my_applications(db, caller.principal)

    @get(
        "/{application_id:uuid}",
        opt=requires(P.READ),
        responses=error_responses(401, 403, 404),
        summary="An application with its history / 申请详情与进度",
    )
    async def detail(self, db: Db, caller: CallerDep, application_id: FromPath[uuid.UUID]) -> ApplicationDetail:
        return await service.application_detail(db, caller.principal, application_id)

    @post(
        "/{application_id:uuid}/accept",
        opt=requires(P.ACCEPT),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Accept an offered place / 接受录取",
    )
    async def accept(
        self, db: Db, state: State, caller: CallerDep, application_id: FromPath[uuid.UUID]
    ) -> ApplicationDetail:
        await service.accept(db, state.settings, caller.principal, application_id)
        return await _committed(db, application_id)

    @post(
        "/{application_id:uuid}/withdraw",
        opt=requires(P.WITHDRAW),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Withdraw an application or give up a place / 撤回申请或放弃名额",
    )
    async def withdraw(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        application_id: FromPath[uuid.UUID],
        data: JSONBody[OptionalReasonIn],
    ) -> ApplicationDetail:
        await service.withdraw(db, state.settings, caller.principal, application_id, data.reason)
        return await _committed(db, application_id)


class EnrolmentDeskController(Controller):
    path = "/api/institutions/{institution_id:uuid}"
    tags = ["enrolment · 入托申请"]

    @get(
        "/desk",
        opt=requires(P.DESK),
        responses=error_responses(401, 403, 404),
        summary="Enrolment desk: classes, places, waitlists, today's slots / 招生工作台",
    )
    async def desk(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        day: Annotated[dt.date | None, QueryParameter(description="Slot use on this day (default today)")] = None,
    ) -> Desk:
        await service.load_institution(db, caller.principal, institution_id, P.DESK)
        day = day or local_today()
        slots = await day_slots(db, institution_id, day)
        return Desk(
            institution_id=institution_id,
            day=day,
            classes=[DeskClass(**c) for c in await service.desk_classes(db, institution_id)],
            slots=[
                SlotUse(band=s.band, start=s.start, end=s.end, capacity=s.capacity, booked=s.booked)
                for s in slots.slots
            ],
        )

    @get(
        "/applications",
        opt=requires(P.QUEUE),
        responses=error_responses(401, 403, 404),
        summary="The application queue / 申请队列",
    )
    async def queue(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        status: FromQuery[StatusName | None] = None,
        class_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[QueueItem]:
        """Offers first, then new applications, then each class's waitlist in queue order."""
        return await service.queue(db, caller.principal, institution_id, status, class_id)

    @post(
        "/applications/{application_id:uuid}/offer",
        opt=requires(P.OFFER),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Offer a place / 录取",
    )
    async def offer(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
    ) -> ApplicationDetail:
        await service.offer(db, state.settings, caller.principal, institution_id, application_id)
        return await _committed(db, application_id)

    @post(
        "/applications/{application_id:uuid}/waitlist",
        opt=requires(P.WAITLIST),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Put on the waitlist / 列入候补",
    )
    async def waitlist(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
    ) -> ApplicationDetail:
        await service.waitlist(db, caller.principal, institution_id, application_id)
        return await _committed(db, application_id)

    @post(
        "/applications/{application_id:uuid}/reject",
        opt=requires(P.REJECT),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Reject, with a reason / 不予录取（须说明理由）",
    )
    async def reject(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
        data: JSONBody[ReasonIn],
    ) -> ApplicationDetail:
        await service.reject(db, caller.principal, institution_id, application_id, data.reason)
        return await _committed(db, application_id)

    @post(
        "/applications/{application_id:uuid}/enrol",
        opt=requires(P.ENROL),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Enrol an accepted child / 确认入托",
    )
    async def enrol(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
    ) -> ApplicationDetail:
        await service.enrol(db, caller.principal, institution_id, application_id)
        return await _committed(db, application_id)

    @post(
        "/applications/{application_id:uuid}/end",
        opt=requires(P.END),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="End an enrolment / 结束托育",
    )
    async def end(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
        data: JSONBody[OptionalReasonIn],
    ) -> ApplicationDetail:
        await service.end(db, state.settings, caller.principal, institution_id, application_id, data.reason)
        return await _committed(db, application_id)

    @post(
        "/applications/{application_id:uuid}/priority",
        opt=requires(P.PRIORITISE),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Set queue priority, with a reason / 调整候补优先级（须说明理由）",
    )
    async def prioritise(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
        data: JSONBody[PriorityIn],
    ) -> ApplicationDetail:
        await service.prioritise(db, caller.principal, institution_id, application_id, data.priority, data.reason)
        return await _committed(db, application_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [ApplicationController, EnrolmentDeskController],
    tags=[Tag(name="enrolment · 入托申请", description="Full-day and half-day applications, waitlists, the desk")],
)
