"""Hourly (计时托) and temporary (临时托) care.

Institutions publish, per day and age band, a grid of 30- or 60-minute slots with a number of
places, inside their opening hours. A booking covers whole slots from ``start`` to ``end``; each of
them must have room. Places are taken by one ``UPDATE slots SET booked = booked + 1 WHERE … AND
booked < capacity`` over the covered slots, after locking them in time order; if fewer rows than
slots come back, the transaction is rolled back (409). A CHECK keeps ``booked <= capacity`` and an
exclusion constraint keeps one child out of two overlapping bookings anywhere.

Modes: an hourly booking lasts 30 minutes to 4 hours; a temporary booking is a half day (3 to
6 hours) or a whole day (6 hours or more). Cancelling is possible until BOOKING_CANCEL_CUTOFF_MINUTES
before the start and gives the places back. Staff mark attendance (attended / no-show) from the
booking's day on.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from sqlalchemy import ARRAY, Uuid, any_, bindparam, func, literal_column, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.blacklist.models import institution_blacklisted
from backend.bookings import permissions as P
from backend.bookings.models import BOOKING_STATUS_ZH, Band, Booking, BookingStatus, Slot
from backend.bookings.schemas import (
    BookingDetail,
    BookingHistoryItem,
    BookingIn,
    BookingOut,
    DaySlots,
    SlotOut,
    SlotsIn,
)
from backend.core import audit, fastread, workdays
from backend.core.authz import Principal
from backend.core.clock import hhmm, local_instant, local_today, minutes, utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.core.outbox import Event, emit, history
from backend.enrolment.service import guardians_of, load_institution
from backend.families.models import Child, Guardianship
from backend.families.permissions import LIST_CHILDREN
from backend.institutions.gate import ensure_open_to_families
from backend.institutions.models import Institution, InstitutionMode
from backend.institutions.rules import CLASS_RULES, ClassType, age_in_months

SLOT_HORIZON_DAYS = 90
HOURLY_MAX_MINUTES = 240
TEMPORARY_MIN_MINUTES = 180
WHOLE_DAY_MINUTES = 360


def band_for_age(age_months: int) -> Band | None:
    for band in Band:
        rule = CLASS_RULES[ClassType(band.value)]
        if rule.age_min_months <= age_months < rule.age_max_months:
            return band
    return None


def _within_opening_hours(opening_hours: list[Any], day: dt.date, start: int, end: int) -> bool:
    for period in opening_hours:
        if (
            day.isoweekday() in period["days"]
            and minutes(period["opens"]) <= start
            and end <= minutes(period["closes"])
        ):
            return True
    return False


def _outside_hours() -> RuleViolation:
    return RuleViolation(
        "The time lies outside the institution's opening hours",
        detail_zh="所选时间不在机构营业时间内",
        code="outside_opening_hours",
    )


# ---------------------------------------------------------------------------------------------- slots


async def publish_slots(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: SlotsIn) -> DaySlots:
    institution = await load_institution(db, p, institution_id, P.PUBLISH_SLOTS)
    modes = set(
        (
            await db.execute(
                select(InstitutionMode.mode).where(
                    InstitutionMode.institution_id == institution.id,
                    InstitutionMode.mode.in_(["hourly", "temporary"]),
                )
            )
        ).scalars()
    )
    if not modes:
        raise RuleViolation(
            "Offer hourly or temporary care (service modes) before publishing slots",
            detail_zh="请先开通计时托或临时托服务",
            code="mode_not_offered",
        )
    holiday = workdays.public_holiday(data.day)
    if holiday and not data.open_on_public_holiday and data.capacity > 0:
        raise RuleViolation(
            f"{data.day} is a public holiday ({holiday}); say open_on_public_holiday to open that day",
            detail_zh=f"{data.day.month}月{data.day.day}日是法定节假日（{holiday}），如当天照常开放请选择“节假日照常开放”",
            code="public_holiday",
        )
    today = local_today()
    if not today <= data.day <= today + dt.timedelta(days=SLOT_HORIZON_DAYS):
        raise RuleViolation(
            f"Slots can be published from today up to {SLOT_HORIZON_DAYS} days ahead",
            detail_zh=f"只能发布今天起{SLOT_HORIZON_DAYS}天内的时段",
            code="day_out_of_range",
        )
    start, end, step = minutes(data.opens), minutes(data.closes), data.granularity_minutes
    if start >= end or start % step or end % step:
        raise RuleViolation(
            f"Opening and closing times must be on {step}-minute boundaries, opening first",
            detail_zh=f"开始和结束时间须为{step}分钟的整数倍，且开始早于结束",
            code="slot_bounds_invalid",
        )
    if not _within_opening_hours(institution.opening_hours, data.day, start, end):
        raise _outside_hours()
    existing = {
        (s.start_min, s.end_min): s
        for s in (
            await db.execute(
                select(Slot)
                .where(
                    Slot.institution_id == institution.id,
                    Slot.day == data.day,
                    Slot.band == data.band,
                    Slot.start_min < end,
                    Slot.end_min > start,
                )
                .with_for_update()
            )
        ).scalars()
    }
    for slot_start in range(start, end, step):
        slot = existing.get((slot_start, slot_start + step))
        if slot is None:
            db.add(
                Slot(
                    institution_id=institution.id,
                    day=data.day,
                    band=data.band,
                    start_min=slot_start,
                    end_min=slot_start + step,
                    capacity=data.capacity,
                )
            )
        elif slot.booked > data.capacity:
            raise Conflict(
                f"The {hhmm(slot.start_min)} slot already has {slot.booked} bookings",
                detail_zh=f"{hhmm(slot.start_min)}时段已有{slot.booked}人预约，名额不能少于此数",
                code="capacity_below_booked",
            )
        else:
            slot.capacity = data.capacity
    await db.flush()
    return await day_slots(db, institution.id, data.day, band=data.band)


def _slot_out(s: Slot) -> SlotOut:
    return SlotOut(
        id=s.id,
        band=s.band,  # type: ignore[arg-type]
        start=hhmm(s.start_min),
        end=hhmm(s.end_min),
        capacity=s.capacity,
        booked=s.booked,
        free=s.capacity - s.booked,
    )


async def day_slots(db: AsyncSession, institution_id: uuid.UUID, day: dt.date, band: str | None = None) -> DaySlots:
    stmt = select(Slot).where(Slot.institution_id == institution_id, Slot.day == day)
    if band is not None:
        stmt = stmt.where(Slot.band == band)
    rows = (await db.execute(stmt.order_by(Slot.band, Slot.start_min))).scalars()
    return DaySlots(institution_id=institution_id, day=day, slots=[_slot_out(s) for s in rows])


async def public_day_slots(db: AsyncSession, institution_id: uuid.UUID, day: dt.date, band: str | None) -> DaySlots:
    if await db.get(Institution, institution_id) is None:
        raise NotFound("institution")
    return await day_slots(db, institution_id, day, band)


# ---------------------------------------------------------------------------------------------- booking


def _price(unit: str, price_fen: int, duration: int) -> int:
    if unit == "hour":
        return math.ceil(price_fen * duration / 60)
    if unit == "half_day":
        return price_fen * (2 if duration >= WHOLE_DAY_MINUTES else 1)
    return price_fen if duration >= WHOLE_DAY_MINUTES else math.ceil(price_fen / 2)


def _check_duration(mode: str, duration: int) -> None:
    if mode == "hourly" and duration > HOURLY_MAX_MINUTES:
        raise RuleViolation(
            "Hourly care lasts at most 4 hours; book temporary care for longer",
            detail_zh="计时托单次最长4小时，更长时间请预约临时托",
            code="duration_out_of_range",
        )
    if mode == "temporary" and duration < TEMPORARY_MIN_MINUTES:
        raise RuleViolation(
            "Temporary care is a half day (3 hours or more) or a whole day",
            detail_zh="临时托为半日（3小时以上）或全日",
            code="duration_out_of_range",
        )


def _booking_reads() -> Any:
    """Everything a booking decision reads, in one statement built and compiled once (run by
    ``core.fastread``): the caller's child (scoped by the declared rule, with the caller's account as a
    parameter) with all its guardians; the institution with its price for the mode and whether it is
    blacklisted; and the published slots inside the asked time, for every age band (the band follows
    from the child's birth date, which is encrypted and so only known in Python).

    One row per slot, or one row with the slot columns NULL when there is none; the child's columns
    are NULL when the child is not the caller's, the institution's when it does not exist."""
    caller = Principal(account_id=bindparam("account_id", type_=Uuid), session_id=None, grants=())  # type: ignore[arg-type]
    guardians = select(func.array_agg(Guardianship.account_id)).where(Guardianship.child_id == Child.id)
    child = (
        select(
            Child.id.label("child_id"),
            Child.name.label("child_name"),
            Child.birth_date.label("child_birth_date"),
            guardians.scalar_subquery().label("guardians"),
        )
        .where(Child.id == bindparam("child_id"), LIST_CHILDREN.where(caller))
        .subquery("child")
    )
    inst = (
        select(
            Institution.name.label("inst_name"),
            Institution.opening_hours,
            Institution.filing_status,
            institution_blacklisted(Institution.id).label("blacklisted"),
            InstitutionMode.price_fen,
            InstitutionMode.price_unit,
        )
        .outerjoin(
            InstitutionMode,
            (InstitutionMode.institution_id == Institution.id) & (InstitutionMode.mode == bindparam("mode")),
        )
        .where(Institution.id == bindparam("institution_id"))
        .subquery("inst")
    )
    slot = (
        select(Slot.id.label("slot_id"), Slot.band, Slot.start_min, Slot.end_min, Slot.booked, Slot.capacity)
        .where(
            Slot.institution_id == bindparam("institution_id"),
            Slot.day == bindparam("day"),
            Slot.start_min >= bindparam("start"),
            Slot.end_min <= bindparam("end"),
        )
        .subquery("slot")
    )
    one = select(literal_column("1").label("one")).subquery("one")
    return (
        select(*child.c, *inst.c, *slot.c)
        .select_from(one.outerjoin(child, true()).outerjoin(inst, true()).outerjoin(slot, true()))
        .order_by(slot.c.band, slot.c.start_min)
    )


_BOOKING_READS = _booking_reads()


# Built once; on the table, not the mapped class: no session objects to keep in step (the ORM's
# evaluation of the WHERE against loaded slots), and an array parameter instead of an expanding IN.
_SLOTS = Slot.__table__
_TAKE_PLACES = (
    update(_SLOTS)
    .where(_SLOTS.c.id == any_(bindparam("slot_ids", type_=ARRAY(Uuid))), _SLOTS.c.booked < _SLOTS.c.capacity)
    .values(booked=_SLOTS.c.booked + 1)
    .returning(_SLOTS.c.id)
)


def _decrypted(column: Any, value: bytes) -> Any:
    """A child's column as the ORM would give it (``core.fastread`` returns the stored ciphertext)."""
    return column.type.process_result_value(value, None)


def _slot_full() -> Conflict:
    return Conflict("No place left in one of the slots", detail_zh="所选时段名额已满", code="slot_full")


async def book(db: AsyncSession, settings: Settings, p: Principal, data: BookingIn) -> BookingDetail:
    """Book, and return the booking as the caller will see it (no second read)."""
    start, end = minutes(data.start), minutes(data.end)
    rows = await _booking_reads(db, p, data, start, end)
    head = rows[0]
    await _check_open_and_offered(db, settings, data, head)
    starts_at, ends_at = _booking_times(settings, data, head["opening_hours"], start, end)
    band = _band_of(_decrypted(Child.birth_date, head["child_birth_date"]), data.day)
    await _take_places(db, rows, band, start, end)
    booking = Booking(
        id=uuid.uuid4(),
        child_id=head["child_id"],
        booked_by=p.account_id,
        institution_id=data.institution_id,
        mode=data.mode,
        day=data.day,
        band=band,
        start_min=start,
        end_min=end,
        starts_at=starts_at,
        ends_at=ends_at,
        price_fen=_price(head["price_unit"], head["price_fen"], end - start),
        status=BookingStatus.BOOKED,
    )
    db.add(booking)
    event = _event(db, booking, None, head["guardians"])
    await db.flush()
    return BookingDetail(
        **_fields(settings, booking, _decrypted(Child.name, head["child_name"]), head["inst_name"]),
        history=[BookingHistoryItem(event_id=event.id, type=event.type, status=booking.status, at=event.created_at)],  # type: ignore[arg-type]
    )


async def _booking_reads(db: AsyncSession, p: Principal, data: BookingIn, start: int, end: int) -> list[Any]:
    """Every read of a booking decision in one statement, on the request's connection without the ORM
    (core/fastread.py): the caller's child and its guardians, the institution and the mode's price, and
    the published slots in the time. The decision is the UPDATE of ``_take_places``, so nothing here needs
    the transaction. 404 if the child is not the caller's or the institution does not exist."""
    rows = await fastread.fetch(
        db,
        _BOOKING_READS,
        {
            "account_id": p.account_id,
            "child_id": data.child_id,
            "institution_id": data.institution_id,
            "mode": data.mode,
            "day": data.day,
            "start": start,
            "end": end,
        },
    )
    if not rows or rows[0]["child_id"] is None:
        raise NotFound("child")
    if rows[0]["inst_name"] is None:
        raise NotFound("institution")
    return list(rows)


async def _check_open_and_offered(db: AsyncSession, settings: Settings, data: BookingIn, head: Any) -> None:
    """The institution must be open to families and offer the mode."""
    await ensure_open_to_families(db, settings, data.institution_id, head["filing_status"], head["blacklisted"])
    if head["price_fen"] is None:
        raise RuleViolation(
            f"This institution does not offer {data.mode} care",
            detail_zh="该机构不提供此服务方式",
            code="mode_not_offered",
        )


def _booking_times(
    settings: Settings, data: BookingIn, opening_hours: Any, start: int, end: int
) -> tuple[dt.datetime, dt.datetime]:
    """The booking's start and end instants, once the times make a bookable stay: in order, of the mode's
    length, within the booking horizon, not past, within opening hours."""
    if start >= end:
        raise RuleViolation("The start must come before the end", detail_zh="开始时间须早于结束时间", code="time_order")
    _check_duration(data.mode, end - start)
    today = local_today()
    if data.day < today or data.day > today + dt.timedelta(days=settings.booking_horizon_days):
        raise RuleViolation(
            f"Bookings are for today up to {settings.booking_horizon_days} days ahead",
            detail_zh=f"只能预约今天起{settings.booking_horizon_days}天内的托育",
            code="day_out_of_range",
        )
    starts_at, ends_at = local_instant(data.day, start), local_instant(data.day, end)
    if starts_at <= utcnow():
        raise RuleViolation("The start time has passed", detail_zh="开始时间已过", code="start_in_past")
    if not _within_opening_hours(opening_hours, data.day, start, end):
        raise _outside_hours()
    return starts_at, ends_at


def _band_of(birth_date: dt.date, day: dt.date) -> Band:
    """The child's age band on the day (hourly and temporary care take children of 6 to 35 months)."""
    age = age_in_months(birth_date, day)
    band = band_for_age(age)
    if band is None:
        code, zh = ("child_too_young", "6个月以上") if age < 6 else ("child_too_old", "3岁以下")
        raise RuleViolation(
            f"The child is {age} months old; hourly and temporary care take children from 6 to 35 months",
            detail_zh=f"幼儿{age}个月，计时托、临时托招收{zh}婴幼儿",
            code=code,
        )
    return band


async def _take_places(db: AsyncSession, rows: list[Any], band: Band, start: int, end: int) -> None:
    """Take a place in every published slot of the child's band covering the stay (409 ``slot_full`` if
    one has none left). ``rows`` carry every band's slots in time order (the band depends on the
    encrypted birth date, so the read cannot filter by it)."""
    slots = [r for r in rows if r["slot_id"] is not None and r["band"] == band]
    edges = [start] + [s["end_min"] for s in slots]
    if not slots or edges[-1] != end or any(s["start_min"] != edges[n] for n, s in enumerate(slots)):
        raise RuleViolation(
            "No published slots cover this time for the child's age band",
            detail_zh="该时段未开放适合该年龄段的预约",
            code="slots_not_published",
        )
    if any(s["booked"] >= s["capacity"] for s in slots):
        raise _slot_full()  # fail fast, without waiting for locks; the UPDATE below decides the rest
    # The decision: one UPDATE takes a place in every covered slot that still has one (row locks are
    # taken in index order); if any slot had none, the transaction is rolled back.
    taken = (await db.execute(_TAKE_PLACES, {"slot_ids": [s["slot_id"] for s in slots]})).all()
    if len(taken) < len(slots):
        raise _slot_full()


def _event(db: AsyncSession, booking: Booking, previous: str | None, guardians: list[uuid.UUID], **extra: str) -> Event:
    return emit(
        db,
        f"booking.{booking.status}",
        subject_type="booking",
        subject_id=booking.id,
        accounts=guardians,
        institution_id=booking.institution_id,
        payload={
            "booking_id": str(booking.id),
            "institution_id": str(booking.institution_id),
            "day": booking.day.isoformat(),
            "start": hhmm(booking.start_min),
            "end": hhmm(booking.end_min),
            "status": booking.status,
            "previous_status": previous,
            **extra,
        },
    )


async def _emit(db: AsyncSession, booking: Booking, previous: str | None, **extra: str) -> None:
    _event(db, booking, previous, await guardians_of(db, booking.child_id), **extra)


async def _release_slots(db: AsyncSession, booking: Booking) -> None:
    await db.execute(
        update(Slot)
        .where(
            Slot.institution_id == booking.institution_id,
            Slot.day == booking.day,
            Slot.band == booking.band,
            Slot.start_min >= booking.start_min,
            Slot.end_min <= booking.end_min,
        )
        .values(booked=Slot.booked - 1)
    )


def cancellable_until(settings: Settings, booking: Booking) -> dt.datetime:
    return booking.starts_at - dt.timedelta(minutes=settings.booking_cancel_cutoff_minutes)


async def cancel(db: AsyncSession, settings: Settings, p: Principal, booking_id: uuid.UUID, reason: str) -> None:
    booking = _booked(await _locked(db, Booking.id == booking_id, P.CANCEL.where(p)))
    if utcnow() > cancellable_until(settings, booking):
        raise Conflict(
            f"Cancelling closes {settings.booking_cancel_cutoff_minutes} minutes before the start",
            detail_zh=f"开始前{settings.booking_cancel_cutoff_minutes}分钟内不能取消",
            code="too_late_to_cancel",
        )
    await _cancel(db, booking, reason, by="family")


async def cancel_by_institution(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, booking_id: uuid.UUID, reason: str
) -> None:
    """The institution cancels a booked visit (closure, illness outbreak, ...), with a reason the family
    sees. The row lock makes it race-free against the family's own cancellation: whoever locks second
    finds the booking no longer booked (409). The places go back in the same transaction, and the
    event (``cancelled_by = institution``) is critical: push, WeChat, and the SMS fallback."""
    booking = _booked(
        await _locked(
            db, Booking.id == booking_id, Booking.institution_id == institution_id, P.CANCEL_BY_INSTITUTION.where(p)
        )
    )
    await _cancel(db, booking, reason, by="institution")


async def _locked(db: AsyncSession, *conditions: Any) -> Booking:
    """The booking matching ``conditions`` (its id and the caller's scope), locked; 404 outside them."""
    booking = (await db.execute(select(Booking).where(*conditions).with_for_update())).scalar_one_or_none()
    if booking is None:
        raise NotFound("booking")
    return booking


def _booked(booking: Booking) -> Booking:
    if booking.status != BookingStatus.BOOKED:
        raise Conflict(
            "Only a booked visit can be cancelled", detail_zh="该预约当前不能取消", code="invalid_transition"
        )
    return booking


async def _cancel(db: AsyncSession, booking: Booking, reason: str, *, by: str) -> None:
    """Cancel a booked visit: its places go back, and the event says who cancelled."""
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = utcnow()
    booking.cancel_reason = reason
    await _release_slots(db, booking)
    await db.flush()
    await _emit(db, booking, BookingStatus.BOOKED, cancelled_by=by)


async def mark_attendance(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, booking_id: uuid.UUID, status: str
) -> None:
    booking = (
        await db.execute(
            select(Booking)
            .where(Booking.id == booking_id, Booking.institution_id == institution_id, P.MARK_ATTENDANCE.where(p))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if booking is None:
        raise NotFound("booking")
    if booking.status not in (BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise Conflict(
            "A cancelled booking has no attendance", detail_zh="已取消的预约不能登记考勤", code="invalid_transition"
        )
    if booking.day > local_today():
        raise Conflict(
            "Attendance is marked on or after the day", detail_zh="只能在预约当天或之后登记考勤", code="too_early"
        )
    previous = booking.status
    booking.status = status
    booking.attendance_marked_at = utcnow()
    await db.flush()
    await _emit(db, booking, previous)


# ---------------------------------------------------------------------------------------------- reads


def _booking_select() -> Any:
    return (
        select(Booking, Child.name.label("child_name"), Institution.name.label("institution_name"))
        .join(Child, Child.id == Booking.child_id)
        .join(Institution, Institution.id == Booking.institution_id)
    )


def _booking_fields(settings: Settings, row: Any) -> dict[str, Any]:
    return _fields(settings, row.Booking, row.child_name, row.institution_name)


def _fields(settings: Settings, b: Booking, child_name: str, institution_name: str) -> dict[str, Any]:
    return {
        "id": b.id,
        "child_id": b.child_id,
        "child_name": child_name,
        "institution_id": b.institution_id,
        "institution_name": institution_name,
        "mode": b.mode,
        "day": b.day,
        "start": hhmm(b.start_min),
        "end": hhmm(b.end_min),
        "band": b.band,
        "price_fen": b.price_fen,
        "status": b.status,
        "status_zh": BOOKING_STATUS_ZH[BookingStatus(b.status)],
        "created_at": b.created_at,
        "cancellable_until": cancellable_until(settings, b),
        "cancelled_at": b.cancelled_at,
        "cancel_reason": b.cancel_reason,
    }


async def my_bookings(db: AsyncSession, settings: Settings, p: Principal) -> list[BookingOut]:
    rows = await db.execute(_booking_select().where(P.LIST_MINE.where(p)).order_by(Booking.starts_at.desc()))
    return [BookingOut(**_booking_fields(settings, r)) for r in rows]


async def booking_view(db: AsyncSession, settings: Settings, booking_id: uuid.UUID) -> BookingDetail:
    row = (await db.execute(_booking_select().where(Booking.id == booking_id))).one_or_none()
    if row is None:
        raise NotFound("booking")
    audit.read_children(db, [row.Booking.child_id])  # recorded when staff read it (core/audit.py)
    events = await history(db, "booking", booking_id)
    return BookingDetail(
        **_booking_fields(settings, row),
        history=[
            BookingHistoryItem(event_id=e.id, type=e.type, status=e.payload["status"], at=e.created_at) for e in events
        ],
    )


async def booking_detail(db: AsyncSession, settings: Settings, p: Principal, booking_id: uuid.UUID) -> BookingDetail:
    if await db.scalar(select(Booking.id).where(Booking.id == booking_id, P.READ.where(p))) is None:
        raise NotFound("booking")
    return await booking_view(db, settings, booking_id)


async def institution_bookings(
    db: AsyncSession, settings: Settings, p: Principal, institution_id: uuid.UUID, day: dt.date
) -> list[BookingOut]:
    await load_institution(db, p, institution_id, P.LIST_INSTITUTION)
    rows = await db.execute(
        _booking_select()
        .where(Booking.institution_id == institution_id, Booking.day == day)
        .order_by(Booking.start_min, Booking.created_at)
    )
    out = [BookingOut(**_booking_fields(settings, r)) for r in rows]
    audit.read_children(db, (b.child_id for b in out))
    return out
