"""Children's records, always read and written through their guardian's scope."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bookings.models import Booking, BookingStatus
from backend.core.authz import Action, Principal
from backend.core.clock import local_today
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.enrolment.models import ACTIVE, Application
from backend.families import permissions as P
from backend.families.models import Child, Guardianship
from backend.families.schemas import ChildIn, ChildOut, ChildPatch
from backend.institutions.rules import age_in_months

MAX_AGE_YEARS = 6


def _check_birth_date(birth_date: dt.date) -> None:
    today = local_today()
    if birth_date > today or birth_date < today.replace(year=today.year - MAX_AGE_YEARS):
        raise RuleViolation(
            f"The birth date must be in the past {MAX_AGE_YEARS} years",
            detail_zh=f"出生日期须在今天及以前{MAX_AGE_YEARS}年之内",
            code="birth_date_out_of_range",
        )


def _out(child: Child, relation: str) -> ChildOut:
    return ChildOut(
        id=child.id,
        name=child.name,
        birth_date=child.birth_date,
        age_months=age_in_months(child.birth_date, local_today()),
        relation=relation,  # type: ignore[arg-type]
    )


def _scoped(p: Principal):
    return select(Child, Guardianship.relation).join(
        Guardianship, (Guardianship.child_id == Child.id) & (Guardianship.account_id == p.account_id)
    )


async def list_children(db: AsyncSession, p: Principal) -> list[ChildOut]:
    rows = await db.execute(_scoped(p).where(P.LIST_CHILDREN.where(p)).order_by(Child.birth_date, Child.id))
    return [_out(child, relation) for child, relation in rows]


async def add_child(db: AsyncSession, p: Principal, data: ChildIn) -> ChildOut:
    _check_birth_date(data.birth_date)
    count = await db.scalar(
        select(func.count()).select_from(Guardianship).where(Guardianship.account_id == p.account_id)
    )
    if (count or 0) >= 10:
        raise RuleViolation(
            "At most 10 children per account", detail_zh="每个账号最多登记10名儿童", code="too_many_children"
        )
    child = Child(id=uuid.uuid4(), name=data.name.strip(), birth_date=data.birth_date)
    db.add(child)
    await db.flush()
    db.add(Guardianship(child_id=child.id, account_id=p.account_id, relation=data.relation))
    await db.flush()
    return _out(child, data.relation)


async def _load(db: AsyncSession, p: Principal, child_id: uuid.UUID, action: Action) -> tuple[Child, str]:
    row = (
        await db.execute(_scoped(p).where(Child.id == child_id, action.where(p)).with_for_update(of=Child))
    ).one_or_none()
    if row is None:
        raise NotFound("child")
    return row[0], row[1]


async def update_child(db: AsyncSession, p: Principal, child_id: uuid.UUID, data: ChildPatch) -> ChildOut:
    child, relation = await _load(db, p, child_id, P.UPDATE_CHILD)
    if data.birth_date is not msgspec.UNSET:
        _check_birth_date(data.birth_date)
        child.birth_date = data.birth_date
    if data.name is not msgspec.UNSET:
        child.name = data.name.strip()
    await db.flush()
    return _out(child, relation)


async def _in_care(db: AsyncSession, child_id: uuid.UUID) -> bool:
    application = await db.scalar(
        select(Application.id).where(Application.child_id == child_id, Application.status.in_([str(s) for s in ACTIVE]))
    )
    booking = await db.scalar(
        select(Booking.id).where(Booking.child_id == child_id, Booking.status == BookingStatus.BOOKED)
    )
    return application is not None or booking is not None


async def remove_child(db: AsyncSession, p: Principal, child_id: uuid.UUID) -> None:
    """Remove this guardian's link; the record itself goes when its last guardian removes it."""
    child, _ = await _load(db, p, child_id, P.REMOVE_CHILD)
    if await _in_care(db, child.id):
        raise Conflict(
            "The child has applications or bookings in progress; withdraw or cancel them first",
            detail_zh="该幼儿仍有进行中的申请或预约，请先撤回或取消",
            code="child_in_care",
        )
    await db.execute(
        delete(Guardianship).where(Guardianship.child_id == child.id, Guardianship.account_id == p.account_id)
    )
    remaining = await db.scalar(select(func.count()).select_from(Guardianship).where(Guardianship.child_id == child.id))
    if not remaining:
        await db.execute(delete(Child).where(Child.id == child.id))
    await db.flush()
