"""Parenting guidance (育儿指导): publishing events, registrations, cancellations, attendance.

The booking machinery, reused:

* a place is taken by one ``UPDATE guidance_events SET registered = registered + 1 WHERE id = :id AND
  registered < capacity AND status = 'published' AND starts_at > now()`` in the same transaction as
  the registration row (no row back: 409, nothing written); a CHECK keeps ``registered`` within
  ``capacity`` as the last line of defence;
* one account (the family) holds one live registration per event: a partial unique index;
* cancelling gives the place back until the start; cancelling an event cancels its registrations;
* hosts mark attendance (attended / no-show) from the start on;
* every change emits an outbox event with ids and states only.

Lock order is always the event row first, then registrations, so a registration, a cancellation
and an event cancellation never deadlock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.accounts.names import name_columns, shown_name
from backend.core import audit
from backend.core.authz import Principal
from backend.core.clock import CHINA, local_instant, utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from backend.core.outbox import emit
from backend.families.models import Child
from backend.families.permissions import LIST_CHILDREN
from backend.government.models import Unit
from backend.guidance import permissions as P
from backend.guidance.models import (
    KIND_ZH,
    REGISTRATION_STATUS_ZH,
    EventStatus,
    GuidanceEvent,
    GuidanceRegistration,
    Kind,
    RegistrationStatus,
)
from backend.guidance.schemas import (
    GuidanceEventDetail,
    GuidanceEventIn,
    GuidanceEventOut,
    GuidanceEventPage,
    GuidanceHostedEvent,
    GuidanceHostedEventDetail,
    GuidanceHostedRegistration,
    GuidanceRegistrationOut,
)
from backend.institutions.gate import ensure_open_to_families
from backend.institutions.models import Institution
from backend.institutions.rules import age_in_months

MAX_DURATION = dt.timedelta(days=14)
HORIZON = dt.timedelta(days=366)
LIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)


# ---------------------------------------------------------------------------------------------- events


def _audience(event: GuidanceEvent) -> dict[str, Any]:
    """Who hears about an event besides the families: the hosting institution's staff, or the health
    officers of its unit when a health centre hosts."""
    if event.host_institution_id is not None:
        return {"institution_id": event.host_institution_id}
    return {"departments": [P.HEALTH], "unit_code": event.unit_code}


def _emit_registration(db: AsyncSession, event: GuidanceEvent, reg: GuidanceRegistration, previous: str | None) -> None:
    type_ = {
        RegistrationStatus.REGISTERED: "guidance.registered",
        RegistrationStatus.CANCELLED: "guidance.cancelled",
    }.get(RegistrationStatus(reg.status), "guidance.attendance")
    emit(
        db,
        type_,
        subject_type="guidance_registration",
        subject_id=reg.id,
        accounts=[reg.account_id],
        **_audience(event),
        payload={
            "registration_id": str(reg.id),
            "event_id": str(event.id),
            "status": reg.status,
            "previous_status": previous,
        },
    )


async def _institution_host(db: AsyncSession, p: Principal, institution_id: uuid.UUID | None) -> Institution | None:
    """The institution the caller publishes for, or None for a health-centre event."""
    if institution_id is None:
        if p.is_city_admin or P.health_units(p):
            return None
        mine = p.institutions()
        if not mine:
            raise Forbidden(
                "Only institutions and health officers publish guidance events",
                detail_zh="只有托育机构和卫生健康部门可以发布育儿指导活动",
                code="forbidden",
            )
        if len(mine) > 1:
            raise RuleViolation(
                "Name the institution that hosts the event", detail_zh="请选择主办机构", code="institution_required"
            )
        (institution_id,) = mine
    if not (p.is_city_admin or institution_id in p.institutions()):
        raise NotFound("institution")
    inst = await db.get(Institution, institution_id)
    if inst is None:
        raise NotFound("institution")
    return inst


async def publish(db: AsyncSession, settings: Settings, p: Principal, data: GuidanceEventIn) -> uuid.UUID:
    now = utcnow()
    if data.ends_at <= data.starts_at:
        raise RuleViolation("The end must come after the start", detail_zh="结束时间须晚于开始时间", code="time_order")
    if data.starts_at <= now:
        raise RuleViolation("The start time has passed", detail_zh="开始时间已过", code="start_in_past")
    if data.starts_at > now + HORIZON:
        raise RuleViolation(
            "Events are published at most a year ahead", detail_zh="只能发布一年以内的活动", code="start_too_far"
        )
    if data.ends_at - data.starts_at > MAX_DURATION:
        raise RuleViolation(
            "An event lasts at most 14 days", detail_zh="单个活动最长14天", code="duration_out_of_range"
        )
    if (data.lat is None) != (data.lng is None):
        raise RuleViolation("Give both lat and lng, or neither", detail_zh="经纬度须同时提供", code="position_partial")

    inst = await _institution_host(db, p, data.institution_id)
    if inst is not None:
        if data.unit_code is not None and data.unit_code != inst.unit_code:
            raise RuleViolation(
                "An institution's events take place in its own unit",
                detail_zh="机构活动须在其所在区县举办",
                code="unit_mismatch",
            )
        await ensure_open_to_families(db, settings, inst.id, inst.filing_status)
        host_name = data.host_name or inst.name
        unit_code = inst.unit_code
        address = data.address or inst.address
        lat, lng = (data.lat, data.lng) if data.lat is not None else (inst.lat, inst.lng)
    else:
        if data.host_name is None or data.unit_code is None or data.address is None:
            raise RuleViolation(
                "A health-centre event needs host_name, unit_code and address",
                detail_zh="卫生健康机构主办的活动须填写主办单位、所在区县和地址",
                code="host_required",
            )
        units = P.health_units(p)
        if not (p.is_city_admin or None in units or data.unit_code in units):
            raise Forbidden(
                "Unit health officers publish events in their own unit only",
                detail_zh="只能发布本区县的活动",
                code="unit_out_of_scope",
            )
        unit = await db.get(Unit, data.unit_code)
        if unit is None:
            raise RuleViolation("Unknown unit", detail_zh="区县代码无效", code="unknown_unit")
        host_name, unit_code, address = data.host_name, data.unit_code, data.address
        lat, lng = (data.lat, data.lng) if data.lat is not None else (unit.center_lat, unit.center_lng)

    event = GuidanceEvent(
        id=uuid.uuid4(),
        host_institution_id=inst.id if inst is not None else None,
        host_name=host_name,
        unit_code=unit_code,
        kind=data.kind,
        title=data.title,
        description=data.description,
        address=address,
        lat=lat,
        lng=lng,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        capacity=data.capacity,
        registered=0,
        status=EventStatus.PUBLISHED,
        created_by=p.account_id,
    )
    db.add(event)
    await db.flush()
    # The declared scope decides, as for every other object: the new event must be one the caller hosts.
    if await db.scalar(select(GuidanceEvent.id).where(GuidanceEvent.id == event.id, P.PUBLISH.where(p))) is None:
        raise Forbidden("You may not host this event", detail_zh="无权发布该活动", code="forbidden")
    return event.id


async def _locked_event(
    db: AsyncSession, event_id: uuid.UUID, scope: ColumnElement[bool] | None = None
) -> GuidanceEvent:
    stmt = select(GuidanceEvent).where(GuidanceEvent.id == event_id)
    if scope is not None:
        stmt = stmt.where(scope)
    event = (await db.execute(stmt.with_for_update())).scalar_one_or_none()
    if event is None:
        raise NotFound("event")
    return event


async def cancel_event(db: AsyncSession, p: Principal, event_id: uuid.UUID, reason: str) -> None:
    event = await _locked_event(db, event_id, P.CANCEL_EVENT.where(p))
    if event.status != EventStatus.PUBLISHED:
        raise Conflict("The event is already cancelled", detail_zh="该活动已取消", code="invalid_transition")
    if event.starts_at <= utcnow():
        raise Conflict(
            "An event that has started cannot be cancelled", detail_zh="活动已开始，不能取消", code="event_started"
        )
    now = utcnow()
    regs = list(
        (
            await db.execute(
                select(GuidanceRegistration)
                .where(
                    GuidanceRegistration.event_id == event.id,
                    GuidanceRegistration.status == RegistrationStatus.REGISTERED,
                )
                .with_for_update()
            )
        ).scalars()
    )
    for reg in regs:
        reg.status = RegistrationStatus.CANCELLED
        reg.cancelled_at = now
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.cancel_reason = reason
    event.registered = 0
    await db.flush()
    emit(
        db,
        "guidance.event_cancelled",
        subject_type="guidance_event",
        subject_id=event.id,
        accounts=[r.account_id for r in regs],
        urgency="high",
        **_audience(event),
        payload={"event_id": str(event.id), "status": event.status, "registrations_cancelled": len(regs)},
    )


# ---------------------------------------------------------------------------------------------- registrations


def _closed(event: Any, now: dt.datetime) -> Conflict:
    if event.status != EventStatus.PUBLISHED:
        return Conflict("The event was cancelled", detail_zh="该活动已取消", code="event_cancelled")
    if event.starts_at <= now:
        return Conflict(
            "Registration closed when the event started", detail_zh="活动已开始，报名已截止", code="registration_closed"
        )
    return Conflict("No place left at this event", detail_zh="该活动名额已满", code="event_full")


async def register(
    db: AsyncSession, settings: Settings, p: Principal, event_id: uuid.UUID, child_id: uuid.UUID | None
) -> uuid.UUID:
    event = await db.get(GuidanceEvent, event_id)
    if event is None:
        raise NotFound("event")
    now = utcnow()
    if event.status != EventStatus.PUBLISHED or event.starts_at <= now or event.registered >= event.capacity:
        raise _closed(event, now)  # fail fast without a lock; the UPDATE below decides the rest
    if child_id is not None:
        own = await db.scalar(select(Child.id).where(Child.id == child_id, LIST_CHILDREN.where(p)))
        if own is None:
            raise NotFound("child")
    if event.host_institution_id is not None:
        filing_status = await db.scalar(
            select(Institution.filing_status).where(Institution.id == event.host_institution_id)
        )
        await ensure_open_to_families(db, settings, event.host_institution_id, filing_status or "")
    existing = await db.scalar(
        select(GuidanceRegistration.id).where(
            GuidanceRegistration.event_id == event_id,
            GuidanceRegistration.account_id == p.account_id,
            GuidanceRegistration.status != RegistrationStatus.CANCELLED,
        )
    )
    if existing is not None:
        raise Conflict(
            "You are already registered for this event", detail_zh="您已报名该活动", code="already_registered"
        )
    # The decision: one conditional UPDATE takes a place (its row lock serializes the racers).
    taken = await db.scalar(
        update(GuidanceEvent)
        .where(
            GuidanceEvent.id == event_id,
            GuidanceEvent.registered < GuidanceEvent.capacity,
            GuidanceEvent.status == EventStatus.PUBLISHED,
            GuidanceEvent.starts_at > func.now(),
        )
        .values(registered=GuidanceEvent.registered + 1)
        .returning(GuidanceEvent.id)
    )
    if taken is None:
        current = (
            await db.execute(select(GuidanceEvent.status, GuidanceEvent.starts_at).where(GuidanceEvent.id == event_id))
        ).one()
        raise _closed(current, utcnow())
    reg = GuidanceRegistration(
        id=uuid.uuid4(),
        event_id=event_id,
        account_id=p.account_id,
        child_id=child_id,
        status=RegistrationStatus.REGISTERED,
    )
    db.add(reg)
    await db.flush()  # the partial unique index refuses a second live registration (409)
    _emit_registration(db, event, reg, None)
    await db.flush()
    return reg.id


async def cancel_registration(db: AsyncSession, p: Principal, registration_id: uuid.UUID) -> None:
    event_id = await db.scalar(
        select(GuidanceRegistration.event_id).where(GuidanceRegistration.id == registration_id, P.CANCEL_MINE.where(p))
    )
    if event_id is None:
        raise NotFound("registration")
    event = await _locked_event(db, event_id)  # event first, then the registration (lock order)
    reg = (
        await db.execute(
            select(GuidanceRegistration).where(GuidanceRegistration.id == registration_id).with_for_update()
        )
    ).scalar_one()
    if reg.status != RegistrationStatus.REGISTERED:
        raise Conflict(
            "Only a live registration can be cancelled", detail_zh="该报名当前不能取消", code="invalid_transition"
        )
    if event.starts_at <= utcnow():
        raise Conflict(
            "Cancelling closes when the event starts", detail_zh="活动开始后不能取消报名", code="too_late_to_cancel"
        )
    reg.status = RegistrationStatus.CANCELLED
    reg.cancelled_at = utcnow()
    await db.execute(
        update(GuidanceEvent).where(GuidanceEvent.id == event.id).values(registered=GuidanceEvent.registered - 1)
    )
    await db.flush()
    _emit_registration(db, event, reg, RegistrationStatus.REGISTERED)
    await db.flush()


async def mark_attendance(
    db: AsyncSession, p: Principal, event_id: uuid.UUID, registration_id: uuid.UUID, status: str
) -> None:
    event = (
        await db.execute(select(GuidanceEvent).where(GuidanceEvent.id == event_id, P.ATTENDANCE.where(p)))
    ).scalar_one_or_none()
    if event is None:
        raise NotFound("event")
    reg = (
        await db.execute(
            select(GuidanceRegistration)
            .where(GuidanceRegistration.id == registration_id, GuidanceRegistration.event_id == event_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if reg is None:
        raise NotFound("registration")
    if event.status != EventStatus.PUBLISHED or reg.status not in LIVE:
        raise Conflict(
            "A cancelled registration or event has no attendance",
            detail_zh="已取消的报名或活动不能登记出勤",
            code="invalid_transition",
        )
    if utcnow() < event.starts_at:
        raise Conflict(
            "Attendance is marked from the start of the event on",
            detail_zh="活动开始后才能登记出勤",
            code="too_early",
        )
    previous = reg.status
    now = utcnow()
    reg.status = status
    reg.attendance_marked_at = now
    reg.attended_at = now if status == RegistrationStatus.ATTENDED else None
    await db.flush()
    if previous != status:
        _emit_registration(db, event, reg, previous)
        await db.flush()


# ---------------------------------------------------------------------------------------------- reads


def _distance(lat: float, lng: float) -> ColumnElement[float]:
    return func.earth_distance(func.ll_to_earth(lat, lng), func.ll_to_earth(GuidanceEvent.lat, GuidanceEvent.lng))


def _event_fields(e: GuidanceEvent, unit_name: str, now: dt.datetime, distance: float | None = None) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "kind_zh": KIND_ZH[Kind(e.kind)],
        "title": e.title,
        "description": e.description,
        "host_name": e.host_name,
        "host_institution_id": e.host_institution_id,
        "unit_code": e.unit_code,
        "unit_name": unit_name,
        "address": e.address,
        "lat": e.lat,
        "lng": e.lng,
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "capacity": e.capacity,
        "registered": e.registered,
        "places_left": e.capacity - e.registered,
        "status": e.status,
        "open_for_registration": e.status == EventStatus.PUBLISHED and e.starts_at > now and e.registered < e.capacity,
        "distance_m": None if distance is None else round(distance, 1),
    }


def _event_select(*extra: Any) -> Any:
    return select(GuidanceEvent, Unit.name_zh.label("unit_name"), *extra).join(
        Unit, Unit.code == GuidanceEvent.unit_code
    )


async def list_events(
    db: AsyncSession,
    *,
    unit: int | None,
    kind: str | None,
    lat: float | None,
    lng: float | None,
    radius_km: float | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    limit: int,
    offset: int,
) -> GuidanceEventPage:
    if (lat is None) != (lng is None):
        raise RuleViolation("Give both lat and lng, or neither", detail_zh="经纬度须同时提供", code="position_partial")
    if radius_km is not None and lat is None:
        raise RuleViolation("radius_km needs lat and lng", detail_zh="按距离筛选须提供经纬度", code="position_required")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise RuleViolation("'to' is before 'from'", detail_zh="结束日期早于开始日期", code="date_order")
    now = utcnow()
    conds: list[ColumnElement[bool]] = [
        GuidanceEvent.status == EventStatus.PUBLISHED,
        GuidanceEvent.starts_at > now,
    ]
    if unit is not None:
        conds.append(GuidanceEvent.unit_code == unit)
    if kind is not None:
        conds.append(GuidanceEvent.kind == kind)
    if date_from is not None:
        conds.append(GuidanceEvent.starts_at >= local_instant(date_from, 0))
    if date_to is not None:
        conds.append(GuidanceEvent.starts_at < local_instant(date_to + dt.timedelta(days=1), 0))
    distance = _distance(lat, lng) if lat is not None and lng is not None else None
    if distance is not None and radius_km is not None:
        conds.append(distance <= radius_km * 1000)
    where = and_(*conds)
    total = await db.scalar(select(func.count()).select_from(GuidanceEvent).where(where)) or 0
    stmt = _event_select(*([distance.label("distance")] if distance is not None else [])).where(where)
    order = [distance] if distance is not None else []
    stmt = stmt.order_by(*order, GuidanceEvent.starts_at, GuidanceEvent.id).limit(limit).offset(offset)
    rows = (await db.execute(stmt)).all()
    items = [
        GuidanceEventOut(
            **_event_fields(r.GuidanceEvent, r.unit_name, now, r.distance if distance is not None else None)
        )
        for r in rows
    ]
    return GuidanceEventPage(items=items, total=total, limit=limit, offset=offset)


async def event_detail(db: AsyncSession, p: Principal | None, event_id: uuid.UUID) -> GuidanceEventDetail:
    row = (await db.execute(_event_select().where(GuidanceEvent.id == event_id))).one_or_none()
    if row is None:
        raise NotFound("event")
    mine = None
    if p is not None:
        mine = (
            await db.execute(
                select(GuidanceRegistration.id, GuidanceRegistration.status)
                .where(GuidanceRegistration.event_id == event_id, GuidanceRegistration.account_id == p.account_id)
                .order_by(GuidanceRegistration.created_at.desc())
                .limit(1)
            )
        ).one_or_none()
    return GuidanceEventDetail(
        **_event_fields(row.GuidanceEvent, row.unit_name, utcnow()),
        my_registration_id=mine.id if mine else None,
        my_registration_status=mine.status if mine else None,
    )


def _registration_select() -> Any:
    return (
        select(GuidanceRegistration, GuidanceEvent, Unit.name_zh.label("unit_name"), Child.name.label("child_name"))
        .join(GuidanceEvent, GuidanceEvent.id == GuidanceRegistration.event_id)
        .join(Unit, Unit.code == GuidanceEvent.unit_code)
        .outerjoin(Child, Child.id == GuidanceRegistration.child_id)
    )


def _registration_out(row: Any, now: dt.datetime) -> GuidanceRegistrationOut:
    r: GuidanceRegistration = row.GuidanceRegistration
    e: GuidanceEvent = row.GuidanceEvent
    return GuidanceRegistrationOut(
        id=r.id,
        event=GuidanceEventOut(**_event_fields(e, row.unit_name, now)),
        child_id=r.child_id,
        child_name=row.child_name,
        status=r.status,  # type: ignore[arg-type]
        status_zh=REGISTRATION_STATUS_ZH[RegistrationStatus(r.status)],
        created_at=r.created_at,
        cancelled_at=r.cancelled_at,
        attended_at=r.attended_at,
        cancellable=r.status == RegistrationStatus.REGISTERED and e.starts_at > now,
    )


async def my_registrations(db: AsyncSession, p: Principal) -> list[GuidanceRegistrationOut]:
    rows = await db.execute(
        _registration_select()
        .where(P.LIST_MINE.where(p))
        .order_by(GuidanceEvent.starts_at.desc(), GuidanceRegistration.created_at.desc())
    )
    now = utcnow()
    return [_registration_out(r, now) for r in rows]


async def registration_view(db: AsyncSession, registration_id: uuid.UUID) -> GuidanceRegistrationOut:
    row = (
        await db.execute(
            _registration_select()
            .where(GuidanceRegistration.id == registration_id)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("registration")
    return _registration_out(row, utcnow())


async def my_registration(db: AsyncSession, p: Principal, registration_id: uuid.UUID) -> GuidanceRegistrationOut:
    found = await db.scalar(
        select(GuidanceRegistration.id).where(GuidanceRegistration.id == registration_id, P.READ_MINE.where(p))
    )
    if found is None:
        raise NotFound("registration")
    return await registration_view(db, registration_id)


def _counts() -> tuple[Any, Any]:
    def count(status: str) -> Any:
        return (
            select(func.count())
            .where(GuidanceRegistration.event_id == GuidanceEvent.id, GuidanceRegistration.status == status)
            .correlate(GuidanceEvent)
            .scalar_subquery()
        )

    return count(RegistrationStatus.ATTENDED).label("attended"), count(RegistrationStatus.NO_SHOW).label("no_show")


async def hosted_events(
    db: AsyncSession, p: Principal, *, past: bool, limit: int, offset: int
) -> list[GuidanceHostedEvent]:
    now = utcnow()
    stmt = _event_select(*_counts()).where(P.HOSTED.where(p))
    if past:
        stmt = stmt.where(GuidanceEvent.starts_at <= now).order_by(GuidanceEvent.starts_at.desc())
    else:
        stmt = stmt.where(GuidanceEvent.ends_at > now).order_by(GuidanceEvent.starts_at)
    rows = (await db.execute(stmt.order_by(GuidanceEvent.id).limit(limit).offset(offset))).all()
    return [
        GuidanceHostedEvent(**_event_fields(r.GuidanceEvent, r.unit_name, now), attended=r.attended, no_show=r.no_show)
        for r in rows
    ]


async def hosted_event(db: AsyncSession, p: Principal, event_id: uuid.UUID) -> GuidanceHostedEventDetail:
    row = (
        await db.execute(
            _event_select(*_counts())
            .where(GuidanceEvent.id == event_id, P.HOSTED_READ.where(p))
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("event")
    e: GuidanceEvent = row.GuidanceEvent
    regs = await db.execute(
        select(GuidanceRegistration, *name_columns(), Child.name.label("child_name"), Child.birth_date)
        .join(Account, Account.id == GuidanceRegistration.account_id)
        .outerjoin(Child, Child.id == GuidanceRegistration.child_id)
        .where(GuidanceRegistration.event_id == event_id)
        .order_by(GuidanceRegistration.created_at)
        .execution_options(populate_existing=True)
    )
    on = e.starts_at.astimezone(CHINA).date()
    regs = regs.all()
    audit.read_children(db, (r.GuidanceRegistration.child_id for r in regs))  # ids only (core/audit.py)
    return GuidanceHostedEventDetail(
        **_event_fields(e, row.unit_name, utcnow()),
        attended=row.attended,
        no_show=row.no_show,
        cancel_reason=e.cancel_reason,
        registrations=[
            GuidanceHostedRegistration(
                id=r.GuidanceRegistration.id,
                guardian=shown_name(r.display_name, r.phone, r.email),
                child_name=r.child_name,
                child_age_months=age_in_months(r.birth_date, on) if r.birth_date else None,
                status=r.GuidanceRegistration.status,
                status_zh=REGISTRATION_STATUS_ZH[RegistrationStatus(r.GuidanceRegistration.status)],
                created_at=r.GuidanceRegistration.created_at,
                attendance_marked_at=r.GuidanceRegistration.attendance_marked_at,
            )
            for r in regs
        ],
    )
