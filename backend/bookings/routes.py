"""Hourly and temporary care: slots, bookings, cancellations, attendance."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import FromPath, FromQuery, JSONBody

from backend.bookings import permissions as P
from backend.bookings import service
from backend.bookings.schemas import (
    AttendanceIn,
    BandName,
    BookingDetail,
    BookingIn,
    BookingOut,
    CancelIn,
    DaySlots,
    SlotsIn,
)
from backend.core import idempotency
from backend.core.authz import Principal, requires
from backend.core.deps import CallerDep, Db, IdempotencyKey
from backend.core.domains import Domain
from backend.core.errors import WRITE_ERRORS, error_responses


class SlotController(Controller):
    path = "/api/institutions/{institution_id:uuid}"
    tags = ["bookings · 计时托与临时托"]

    @get(
        "/slots",
        opt=requires(P.VIEW_SLOTS),
        responses=error_responses(400, 404),
        summary="Free places per slot on a day / 某日各时段余位",
    )
    async def slots(
        self,
        db: Db,
        institution_id: FromPath[uuid.UUID],
        day: FromQuery[dt.date],
        band: FromQuery[BandName | None] = None,
    ) -> DaySlots:
        return await service.public_day_slots(db, institution_id, day, band)

    @put(
        "/slots",
        opt=requires(P.PUBLISH_SLOTS),
        responses=WRITE_ERRORS,
        summary="Publish a day's slots for an age band / 发布某日某年龄段的可预约时段",
    )
    async def publish(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[SlotsIn],
    ) -> DaySlots:
        """Creates the slots that do not exist yet and sets the capacity of those that do
        (never below their bookings). Must lie inside the opening hours."""
        out = await service.publish_slots(db, caller.principal, institution_id, data)
        await db.commit()
        return out

    @get(
        "/bookings",
        opt=requires(P.LIST_INSTITUTION),
        responses=error_responses(401, 403, 404),
        summary="The day's bookings / 当日预约",
    )
    async def day_bookings(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        day: FromQuery[dt.date],
    ) -> list[BookingOut]:
        return await service.institution_bookings(db, state.settings, caller.principal, institution_id, day)

    @post(
        "/bookings/{booking_id:uuid}/cancel",
        opt=requires(P.CANCEL_BY_INSTITUTION),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Cancel a booking on the institution's side, with a reason / 机构取消预约",
    )
    async def cancel_by_institution(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[CancelIn],
    ) -> BookingDetail:
        """The places go back at once; the family is told (a critical event: SMS if no push is seen)."""
        change = service.cancel_by_institution(db, caller.principal, institution_id, booking_id, data.reason)
        return await _commit_and_view(db, state, booking_id, change)

    @post(
        "/bookings/{booking_id:uuid}/attendance",
        opt=requires(P.MARK_ATTENDANCE),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Mark attended or no-show / 登记到园或未到",
    )
    async def attendance(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[AttendanceIn],
    ) -> BookingDetail:
        change = service.mark_attendance(db, caller.principal, institution_id, booking_id, data.status)
        return await _commit_and_view(db, state, booking_id, change)


class BookingController(Controller):
    path = "/api/bookings"
    tags = ["bookings · 计时托与临时托"]

    @post(
        "/",
        opt=requires(P.BOOK),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Book hourly or temporary care / 预约计时托或临时托",
    )
    async def book(
        self,
        db: Db,
        state: State,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        data: JSONBody[BookingIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BookingDetail]:
        """Every slot from `start` to `end` must have room for the child's age band. Send an
        `Idempotency-Key` to make retries safe."""

        async def create() -> BookingDetail:
            return await service.book(db, state.settings, caller.principal, data)

        return await idempotency.create_once(db, request, caller.account_id, idempotency_key, data, create)

    @get("/", opt=requires(P.LIST_MINE), responses=error_responses(401, 403), summary="My bookings / 我的预约")
    async def mine(self, db: Db, state: State, caller: CallerDep) -> list[BookingOut]:
        return await service.my_bookings(db, state.settings, caller.principal)

    @get(
        "/{booking_id:uuid}",
        opt=requires(P.READ),
        responses=error_responses(401, 403, 404),
        summary="A booking with its history / 预约详情",
    )
    async def detail(self, db: Db, state: State, caller: CallerDep, booking_id: FromPath[uuid.UUID]) -> BookingDetail:
        return await service.booking_detail(db, state.settings, caller.principal, booking_id)

    @post(
        "/{booking_id:uuid}/cancel",
        opt=requires(P.CANCEL),
        responses=WRITE_ERRORS,
        status_code=200,
        summary="Cancel, with a reason / 取消预约",
    )
    async def cancel(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[CancelIn],
    ) -> BookingDetail:
        change = service.cancel(db, state.settings, caller.principal, booking_id, data.reason)
        return await _commit_and_view(db, state, booking_id, change)


async def _commit_and_view(db: Db, state: State, booking_id: uuid.UUID, change: Awaitable[None]) -> BookingDetail:
    """Make a change to a booking, commit it, and answer the booking as it now is."""
    await change
    await db.commit()
    return await service.booking_view(db, state.settings, booking_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [BookingController, SlotController],
    tags=[Tag(name="bookings · 计时托与临时托", description="Hourly and temporary care: slots and bookings")],
)
