"""Children's records, always read and written through their guardian's scope."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bookings.models import Booking, BookingStatus
from backend.core import crypto
from backend.core.authz import Action, Principal
from backend.core.clock import local_today
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.enrolment.models import ACTIVE, Application
from backend.families import permissions as P
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.families.schemas import CHILD_DATA_POLICY_VERSION, ChildIn, ChildOut, ChildPatch
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


def _clean_name(name: str) -> str:
    """The database sees only ciphertext, so the blank-name rule is checked here."""
    cleaned = name.strip()
    if not cleaned:
        raise RuleViolation("The child's name must not be blank", detail_zh="请填写孩子的姓名", code="name_blank")
    return cleaned


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
    # Names and birth dates are encrypted: sorted here, not in SQL (oldest child first).
    rows = await db.execute(_scoped(p).where(P.LIST_CHILDREN.where(p)))
    return sorted((_out(child, relation) for child, relation in rows), key=lambda c: (c.birth_date, str(c.id)))


def _check_consent(data: ChildIn) -> str:
    if data.consent is None or not data.consent.accepted:
        raise RuleViolation(
            "A guardian's consent to storing the child's name and birth date is required",
            detail_zh="保存儿童的姓名和出生日期须经监护人同意，请勾选同意",
            code="guardian_consent_required",
        )
    if data.consent.policy_version != CHILD_DATA_POLICY_VERSION:
        raise RuleViolation(
            f"The consent must be to the current notice (version {CHILD_DATA_POLICY_VERSION}); reload the page",
            detail_zh=f"请阅读并同意当前版本（{CHILD_DATA_POLICY_VERSION}）的儿童信息说明，请刷新页面后重试",
            code="consent_policy_outdated",
            extra={"policy_version": CHILD_DATA_POLICY_VERSION},
        )
    return data.consent.policy_version


async def add_child(db: AsyncSession, p: Principal, data: ChildIn) -> ChildOut:
    """Store a child with its guardian's consent, in one transaction (PostgreSQL refuses, at commit,
    a child without a consent record)."""
    policy_version = _check_consent(data)
    _check_birth_date(data.birth_date)
    count = await db.scalar(
        select(func.count()).select_from(Guardianship).where(Guardianship.account_id == p.account_id)
    )
    if (count or 0) >= 10:
        raise RuleViolation(
            "At most 10 children per account", detail_zh="每个账号最多登记10名儿童", code="too_many_children"
        )
    child = Child(id=uuid.uuid4(), name=_clean_name(data.name), birth_date=data.birth_date)
    fingerprint = crypto.current().fingerprint(child.name, child.birth_date)
    await _refuse_duplicate(db, [p.account_id], fingerprint)
    db.add(child)
    await db.flush()
    db.add(
        Guardianship(child_id=child.id, account_id=p.account_id, relation=data.relation, child_fingerprint=fingerprint)
    )
    db.add(GuardianConsent(account_id=p.account_id, child_id=child.id, policy_version=policy_version))
    await db.flush()
    return _out(child, data.relation)


async def _refuse_duplicate(
    db: AsyncSession, accounts: list[uuid.UUID], fingerprint: bytes, *, other_than: uuid.UUID | None = None
) -> None:
    """A clear 409 for the common case; the unique constraint on (account_id, child_fingerprint) is what
    holds under concurrency (its violation answers the same code)."""
    query = select(Guardianship.child_id).where(
        Guardianship.account_id.in_(accounts), Guardianship.child_fingerprint == fingerprint
    )
    if other_than is not None:
        query = query.where(Guardianship.child_id != other_than)
    if await db.scalar(query.limit(1)) is not None:
        raise Conflict(
            "You have already registered a child with this name and birth date",
            detail_zh="您已登记过同名且出生日期相同的孩子",
            code="child_already_added",
        )


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
        child.name = _clean_name(data.name)
    if data.name is not msgspec.UNSET or data.birth_date is not msgspec.UNSET:
        # The blind index follows the record, for every guardian of the child.
        fingerprint = crypto.current().fingerprint(child.name, child.birth_date)
        guardians = list(await db.scalars(select(Guardianship.account_id).where(Guardianship.child_id == child.id)))
        await _refuse_duplicate(db, guardians, fingerprint, other_than=child.id)
        await db.execute(
            update(Guardianship).where(Guardianship.child_id == child.id).values(child_fingerprint=fingerprint)
        )
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
