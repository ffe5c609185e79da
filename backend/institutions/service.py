"""Write side of the registry: institution profiles, service modes and prices, classes.

National class rules are checked here first, for a clear 422 naming the rule, and again by
PostgreSQL (CHECK constraints and the ``classes_institution_rules`` trigger) as the last word.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.authz import Action, Principal
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.enrolment.models import Application
from backend.enrolment.service import class_capacity_changed
from backend.government.models import Unit
from backend.institutions import permissions as P
from backend.institutions.models import CareClass, Institution, InstitutionMode
from backend.institutions.rules import (
    CLASS_RULES,
    MODE_NAMES_ZH,
    MODE_PRICE_UNITS,
    ClassType,
    PriceUnit,
    ServiceMode,
    check_class,
    uscc_valid,
)
from backend.institutions.schemas import (
    ClassIn,
    ClassOut,
    ClassPatch,
    Flags,
    InstitutionIn,
    InstitutionPatch,
    ModeIn,
    ModeOut,
    OpeningPeriod,
)

_FLAG_COLUMNS = {
    "inclusive": "is_inclusive",
    "demonstration": "is_demonstration",
    "employer_run": "is_employer_run",
    "community_run": "is_community_run",
    "kindergarten_class": "is_kindergarten_class",
    "home_based": "is_home_based",
}


def _check_opening_hours(periods: list[OpeningPeriod]) -> list[dict[str, Any]]:
    out = []
    for period in periods:
        if period.opens >= period.closes:
            raise RuleViolation(
                f"Opening time {period.opens} must be before closing time {period.closes}",
                detail_zh="营业开始时间须早于结束时间",
                code="opening_hours_invalid",
            )
        if len(set(period.days)) != len(period.days):
            raise RuleViolation("A weekday is listed twice", detail_zh="星期重复", code="opening_hours_invalid")
        out.append({"days": sorted(period.days), "opens": period.opens, "closes": period.closes})
    return out


def _check_registration_no(code: str) -> None:
    if not uscc_valid(code):
        raise RuleViolation(
            "Not a valid unified social credit code (GB 32100-2015 check character)",
            detail_zh="统一社会信用代码格式或校验位错误",
            code="registration_no_invalid",
        )


async def _check_unit(db: AsyncSession, unit_code: int) -> None:
    if await db.get(Unit, unit_code) is None:
        raise RuleViolation(f"Unknown unit {unit_code}", detail_zh="所属区县不存在", code="unknown_unit")


def _check_flags(flags: Flags | dict[str, bool]) -> None:
    values = flags if isinstance(flags, dict) else msgspec.structs.asdict(flags)
    if values.get("home_based") and values.get("kindergarten_class"):
        raise RuleViolation(
            "An institution cannot be both a home-based point and a kindergarten nursery class",
            detail_zh="家庭托育点与幼儿园托班不能同时选择",
            code="flags_conflict",
        )


async def load_scoped(db: AsyncSession, p: Principal, institution_id: uuid.UUID, act: Action) -> Institution:
    """The institution, locked, if ``p`` may perform ``act`` on it; otherwise 404."""
    inst = (
        await db.execute(select(Institution).where(Institution.id == institution_id, act.where(p)).with_for_update())
    ).scalar_one_or_none()
    if inst is None:
        raise NotFound("institution")
    return inst


async def create_institution(db: AsyncSession, data: InstitutionIn) -> uuid.UUID:
    _check_registration_no(data.registration_no)
    _check_flags(data.flags)
    await _check_unit(db, data.unit_code)
    inst = Institution(
        id=uuid.uuid4(),
        name=data.name.strip(),
        legal_form=data.legal_form,
        registration_no=data.registration_no,
        unit_code=data.unit_code,
        address=data.address.strip(),
        lat=round(data.lat, 7),
        lng=round(data.lng, 7),
        phone=data.phone,
        ownership=data.ownership,
        opening_hours=_check_opening_hours(data.opening_hours),
        description=data.description,
        **{col: getattr(data.flags, flag) for flag, col in _FLAG_COLUMNS.items()},
    )
    db.add(inst)
    await db.flush()
    return inst.id


async def update_institution(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: InstitutionPatch) -> None:
    inst = await load_scoped(db, p, institution_id, P.UPDATE)
    for field in ("name", "address", "phone", "description"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            setattr(inst, field, value if field == "description" else value.strip())
    for field in ("lat", "lng"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            setattr(inst, field, round(value, 7))  # 1 cm; also keeps denormal floats out of the maths
    if data.opening_hours is not msgspec.UNSET:
        inst.opening_hours = _check_opening_hours(data.opening_hours)
    if data.flags is not msgspec.UNSET:
        current = {flag: getattr(inst, col) for flag, col in _FLAG_COLUMNS.items()}
        current.update({k: v for k, v in msgspec.structs.asdict(data.flags).items() if v is not msgspec.UNSET})
        _check_flags(current)
        for flag, col in _FLAG_COLUMNS.items():
            setattr(inst, col, current[flag])
        await _recheck_classes(db, inst)
    await db.flush()


async def _recheck_classes(db: AsyncSession, inst: Institution) -> None:
    """After a flag change, every existing class must still satisfy the rules for this kind of place."""
    classes = list((await db.execute(select(CareClass).where(CareClass.institution_id == inst.id))).scalars())
    total = sum(c.capacity for c in classes)
    for c in classes:
        breach = check_class(
            ClassType(c.class_type),
            c.capacity,
            c.carers,
            is_home_based=inst.is_home_based,
            is_kindergarten_class=inst.is_kindergarten_class,
            other_classes_capacity=total - c.capacity,
        )
        if breach:
            raise RuleViolation(breach.detail, detail_zh=breach.detail_zh, code=breach.code)


async def _other_capacity(db: AsyncSession, institution_id: uuid.UUID, exclude: uuid.UUID | None) -> int:
    stmt = select(func.coalesce(func.sum(CareClass.capacity), 0)).where(CareClass.institution_id == institution_id)
    if exclude is not None:
        stmt = stmt.where(CareClass.id != exclude)
    return int(await db.scalar(stmt) or 0)


async def add_class(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: ClassIn) -> ClassOut:
    inst = await load_scoped(db, p, institution_id, P.MANAGE_CLASSES)
    breach = check_class(
        ClassType(data.class_type),
        data.capacity,
        data.carers,
        is_home_based=inst.is_home_based,
        is_kindergarten_class=inst.is_kindergarten_class,
        other_classes_capacity=await _other_capacity(db, inst.id, None),
    )
    if breach:
        raise RuleViolation(breach.detail, detail_zh=breach.detail_zh, code=breach.code)
    exists = await db.scalar(
        select(CareClass.id).where(CareClass.institution_id == inst.id, CareClass.name == data.name.strip())
    )
    if exists:
        raise Conflict("A class with this name already exists", detail_zh="班级名称已存在", code="class_name_taken")
    cls = CareClass(
        id=uuid.uuid4(),
        institution_id=inst.id,
        name=data.name.strip(),
        class_type=data.class_type,
        capacity=data.capacity,
        carers=data.carers,
    )
    db.add(cls)
    await db.flush()
    return _class_out(cls)


def _class_out(cls: CareClass) -> ClassOut:
    """The same fields the registry's SQL renders for a class (tests compare the two)."""
    rule = CLASS_RULES[ClassType(cls.class_type)]
    return ClassOut(
        id=cls.id,
        name=cls.name,
        class_type=cls.class_type,
        class_type_zh=rule.name_zh,  # type: ignore[arg-type]
        age_min_months=rule.age_min_months,
        age_max_months=rule.age_max_months,
        capacity=cls.capacity,
        carers=cls.carers,
        enrolled=cls.offline_count + cls.enrolled_count,
        vacancies=cls.capacity - cls.places_taken,
        carer_ratio_ok=cls.capacity <= cls.carers * rule.children_per_carer,
    )


async def update_class(
    db: AsyncSession,
    settings: Settings,
    p: Principal,
    institution_id: uuid.UUID,
    class_id: uuid.UUID,
    data: ClassPatch,
) -> ClassOut:
    inst = await load_scoped(db, p, institution_id, P.MANAGE_CLASSES)
    cls = (
        await db.execute(
            select(CareClass).where(CareClass.id == class_id, CareClass.institution_id == inst.id).with_for_update()
        )
    ).scalar_one_or_none()
    if cls is None:
        raise NotFound("class")
    capacity = cls.capacity if data.capacity is msgspec.UNSET else data.capacity
    carers = cls.carers if data.carers is msgspec.UNSET else data.carers
    offline = cls.offline_count if data.offline_enrolled is msgspec.UNSET else data.offline_enrolled
    breach = check_class(
        ClassType(cls.class_type),
        capacity,
        carers,
        enrolled=offline + cls.offered_count + cls.enrolled_count,
        is_home_based=inst.is_home_based,
        is_kindergarten_class=inst.is_kindergarten_class,
        other_classes_capacity=await _other_capacity(db, inst.id, cls.id),
    )
    if breach:
        raise RuleViolation(breach.detail, detail_zh=breach.detail_zh, code=breach.code)
    if data.name is not msgspec.UNSET and data.name.strip() != cls.name:
        taken = await db.scalar(
            select(CareClass.id).where(CareClass.institution_id == inst.id, CareClass.name == data.name.strip())
        )
        if taken:
            raise Conflict("A class with this name already exists", detail_zh="班级名称已存在", code="class_name_taken")
        cls.name = data.name.strip()
    frees_places = capacity - offline > cls.capacity - cls.offline_count
    cls.capacity, cls.carers, cls.offline_count = capacity, carers, offline
    await db.flush()
    if frees_places:
        # More room: the waitlist is served at once (see enrolment.service).
        await class_capacity_changed(db, settings, cls.id)
        await db.refresh(cls)
    return _class_out(cls)


async def remove_class(db: AsyncSession, p: Principal, institution_id: uuid.UUID, class_id: uuid.UUID) -> None:
    inst = await load_scoped(db, p, institution_id, P.MANAGE_CLASSES)
    cls = (
        await db.execute(
            select(CareClass).where(CareClass.id == class_id, CareClass.institution_id == inst.id).with_for_update()
        )
    ).scalar_one_or_none()
    if cls is None:
        raise NotFound("class")
    has_applications = await db.scalar(select(Application.id).where(Application.class_id == cls.id).limit(1))
    if cls.places_taken > 0 or has_applications is not None:
        raise Conflict(
            "A class with children or applications cannot be removed",
            detail_zh="班级内仍有幼儿或申请记录，不能删除",
            code="class_not_empty",
        )
    await db.execute(delete(CareClass).where(CareClass.id == cls.id))
    await db.flush()


async def set_mode(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, mode: ServiceMode, data: ModeIn
) -> ModeOut:
    inst = await load_scoped(db, p, institution_id, P.MANAGE_MODES)
    if PriceUnit(data.price_unit) not in MODE_PRICE_UNITS[mode]:
        allowed = ", ".join(sorted(MODE_PRICE_UNITS[mode]))
        raise RuleViolation(
            f"A {mode} price is per {allowed}",
            detail_zh=f"{MODE_NAMES_ZH[mode]}的计价单位须为：{allowed}",
            code="price_unit_mismatch",
        )
    row = await db.get(InstitutionMode, (inst.id, str(mode)), with_for_update=True)
    if row is None:
        db.add(
            InstitutionMode(
                institution_id=inst.id, mode=str(mode), price_fen=data.price_fen, price_unit=data.price_unit
            )
        )
    else:
        row.price_fen, row.price_unit = data.price_fen, data.price_unit
    await db.flush()
    return ModeOut(mode=mode, mode_zh=MODE_NAMES_ZH[mode], price_fen=data.price_fen, price_unit=data.price_unit)


async def remove_mode(db: AsyncSession, p: Principal, institution_id: uuid.UUID, mode: ServiceMode) -> None:
    inst = await load_scoped(db, p, institution_id, P.MANAGE_MODES)
    result = await db.execute(
        delete(InstitutionMode).where(InstitutionMode.institution_id == inst.id, InstitutionMode.mode == str(mode))
    )
    if not result.rowcount:
        raise NotFound("service mode")
    await db.flush()
