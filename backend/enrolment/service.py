"""Enrolment: applications move through their states; places are counted in PostgreSQL.

States (``models.Status``)::

    submitted ─┬─> offered ──> accepted ──> enrolled ──> ended
               ├─> waitlisted ─┬─> offered
               │               └─> rejected
               └─> rejected
    offered ──> expired (the parent did not accept within OFFER_EXPIRY_DAYS)
    any state before ended ──> withdrawn (by the parent)

Places. A class's places are taken by ``offline_count`` (children enrolled outside the platform),
``offered_count`` (offered or accepted applications) and ``enrolled_count``. Every transition that
takes a place does so with a conditional ``UPDATE classes … WHERE taken < capacity``; a CHECK
constraint bounds the sum too, so no code path can overbook. Counters move in the same transaction
as the application row, so they always equal the rows.

Queue rule (documented in docs/domain/search-and-care.md): a class's waitlist is served by priority (higher first; staff set
it, with a reason, e.g. siblings or local residents), then first come first served by arrival order
(``seq``, a sequence assigned when the application is submitted). Whenever a place frees up (a
withdrawal, an end, an expired offer, more capacity, fewer offline children), the head of that
class's waitlist is offered it automatically, in the same transaction. Staff may offer a submitted application, or the head of the waitlist; nobody jumps the
queue without a recorded priority.

Locking: a transition locks the class row first, then the application, so concurrent transitions in
one class run one at a time and never deadlock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, over, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.childhealth.entry import entry_gate
from backend.core import audit, tx
from backend.core.authz import Action, Principal
from backend.core.clock import local_today, utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.core.maintenance import periodic
from backend.core.outbox import emit, history
from backend.enrolment import permissions as P
from backend.enrolment.models import ACTIVE, HOLDING_OFFER, STATUS_ZH, Application, Status
from backend.enrolment.schemas import (
    ApplicationDetail,
    ApplicationIn,
    ApplicationOut,
    HistoryItem,
    QueueItem,
)
from backend.families.models import Child, Guardianship
from backend.families.permissions import LIST_CHILDREN
from backend.institutions.gate import ensure_open_to_families
from backend.institutions.models import CareClass, Institution, InstitutionMode
from backend.institutions.queries import load_institution
from backend.institutions.rules import CLASS_RULES, ClassType, age_in_months, class_types_for_age

APPLICATION_HORIZON_DAYS = 365
_TAKEN = CareClass.offline_count + CareClass.offered_count + CareClass.enrolled_count


# ---------------------------------------------------------------------------------------------- events


async def guardians_of(db: AsyncSession, child_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await db.execute(select(Guardianship.account_id).where(Guardianship.child_id == child_id))
    return list(rows.scalars())


async def _emit(db: AsyncSession, app: Application, previous: str | None, **extra: Any) -> None:
    emit(
        db,
        f"application.{app.status}",
        subject_type="application",
        subject_id=app.id,
        accounts=await guardians_of(db, app.child_id),
        institution_id=app.institution_id,
        payload={
            "application_id": str(app.id),
            "institution_id": str(app.institution_id),
            "class_id": str(app.class_id),
            "status": app.status,
            "previous_status": previous,
            **extra,
        },
    )


# ---------------------------------------------------------------------------------------------- places


async def _take_offer_place(db: AsyncSession, class_id: uuid.UUID) -> bool:
    """One more held offer, if a place is free. The WHERE clause is the overbooking guard."""
    taken = await db.scalar(
        update(CareClass)
        .where(CareClass.id == class_id, CareClass.capacity > _TAKEN)
        .values(offered_count=CareClass.offered_count + 1)
        .returning(CareClass.id)
    )
    return taken is not None


async def _move_counts(db: AsyncSession, class_id: uuid.UUID, *, offered: int = 0, enrolled: int = 0) -> None:
    await db.execute(
        update(CareClass)
        .where(CareClass.id == class_id)
        .values(offered_count=CareClass.offered_count + offered, enrolled_count=CareClass.enrolled_count + enrolled)
    )


def _full() -> Conflict:
    return Conflict("The class has no free place", detail_zh="该班级已无空余名额", code="class_full")


# ---------------------------------------------------------------------------------------------- apply


async def apply(db: AsyncSession, settings: Settings, p: Principal, data: ApplicationIn) -> uuid.UUID:
    child, institution = await _child_and_institution(db, settings, p, data)
    today = local_today()
    if not today <= data.start_date <= today + dt.timedelta(days=APPLICATION_HORIZON_DAYS):
        raise RuleViolation(
            f"The start date must be between today and {APPLICATION_HORIZON_DAYS} days ahead",
            detail_zh="入托日期须在今天至一年之内",
            code="start_date_out_of_range",
        )
    care_class = await _class_for(db, institution.id, child.birth_date, data)
    existing = await db.scalar(
        select(Application.id).where(
            Application.child_id == child.id,
            Application.institution_id == institution.id,
            Application.status.in_([str(s) for s in ACTIVE]),
        )
    )
    if existing is not None:
        raise Conflict(
            "This child already has an application in progress at this institution",
            detail_zh="该幼儿在本机构已有进行中的申请",
            code="already_applied",
        )
    app = Application(
        id=uuid.uuid4(),
        child_id=child.id,
        applicant_id=p.account_id,
        institution_id=institution.id,
        class_id=care_class.id,
        mode=data.mode,
        start_date=data.start_date,
        status=Status.SUBMITTED,
    )
    db.add(app)
    await db.flush()
    await _emit(db, app, None)
    return app.id


async def _child_and_institution(
    db: AsyncSession, settings: Settings, p: Principal, data: ApplicationIn
) -> tuple[Child, Institution]:
    """The caller's child and the institution, which must be open to families and offer the mode."""
    child = (
        await db.execute(select(Child).where(Child.id == data.child_id, LIST_CHILDREN.where(p)))
    ).scalar_one_or_none()
    if child is None:
        raise NotFound("child")
    institution = await db.get(Institution, data.institution_id)
    if institution is None:
        raise NotFound("institution")
    await ensure_open_to_families(db, settings, institution.id, institution.filing_status)
    offered = await db.scalar(
        select(InstitutionMode.mode).where(
            InstitutionMode.institution_id == institution.id, InstitutionMode.mode == data.mode
        )
    )
    if offered is None:
        raise RuleViolation(
            f"This institution does not offer {data.mode} care",
            detail_zh="该机构不提供此服务方式",
            code="mode_not_offered",
        )
    return child, institution


async def _class_for(
    db: AsyncSession, institution_id: uuid.UUID, birth_date: dt.date, data: ApplicationIn
) -> CareClass:
    """The class applied for: the one asked for, or the one of the child's age on the start date with the
    most free places (422 when the child's age has no class here, or no class at all)."""
    age = age_in_months(birth_date, data.start_date)
    types = class_types_for_age(age)
    if not types:
        if age < 6:
            raise RuleViolation(
                f"The child will be {age} months old on the start date; classes take children from 6 months",
                detail_zh=f"入托时幼儿{age}个月，托育机构招收6个月以上婴幼儿",
                code="child_too_young",
            )
        raise RuleViolation(
            f"The child will be {age} months old on the start date; childcare here is for children under 3",
            detail_zh=f"入托时幼儿{age}个月，本平台服务3岁以下婴幼儿",
            code="child_too_old",
        )
    classes = list(
        (
            await db.execute(
                select(CareClass)
                .where(CareClass.institution_id == institution_id, CareClass.class_type.in_([str(t) for t in types]))
                .order_by((CareClass.capacity - _TAKEN).desc(), CareClass.name)
            )
        ).scalars()
    )
    if data.class_id is not None:
        classes = [c for c in classes if c.id == data.class_id]
    if not classes:
        raise RuleViolation(
            f"No class here takes a child of {age} months",
            detail_zh=f"该机构没有适合{age}个月幼儿的班级",
            code="no_class_for_age",
            extra={"age_months": age},
        )
    return classes[0]


# ---------------------------------------------------------------------------------------------- transitions


async def _lock(
    db: AsyncSession,
    p: Principal | None,
    app_id: uuid.UUID,
    act: Action | None,
    institution_id: uuid.UUID | None = None,
) -> Application:
    """Lock the application's class, then the application (always in this order)."""
    cond: list[ColumnElement[bool]] = [Application.id == app_id]
    if p is not None and act is not None:
        cond.append(act.where(p))
    if institution_id is not None:
        cond.append(Application.institution_id == institution_id)
    class_id = await db.scalar(select(Application.class_id).where(*cond))
    if class_id is None:
        raise NotFound("application")
    await db.execute(select(CareClass.id).where(CareClass.id == class_id).with_for_update())
    return (
        await db.execute(
            select(Application)
            .where(Application.id == app_id)
            .with_for_update()
            .execution_options(populate_existing=True)  # the locked row, not a stale copy
        )
    ).scalar_one()


def _require(app: Application, allowed: set[Status], action: str) -> None:
    if app.status not in allowed:
        raise Conflict(
            f"Cannot {action} an application that is {app.status}",
            detail_zh=f"当前状态（{STATUS_ZH[Status(app.status)]}）不能执行此操作",
            code="invalid_transition",
            extra={"status": app.status},
        )


async def _set(db: AsyncSession, app: Application, status: Status, **extra: Any) -> None:
    previous = app.status
    app.status = status
    app.offer_expires_at = extra.pop("offer_expires_at", None) if status == Status.OFFERED else None
    await db.flush()
    await _emit(db, app, previous, **extra)


async def _offer(db: AsyncSession, settings: Settings, app: Application, *, automatic: bool) -> None:
    if not await _take_offer_place(db, app.class_id):
        raise _full()
    expires = utcnow() + dt.timedelta(days=settings.offer_expiry_days)
    await _set(db, app, Status.OFFERED, offer_expires_at=expires, automatic=automatic)


def _queue_order() -> tuple[Any, ...]:
    return (Application.priority.desc(), Application.seq)


async def _waitlist_head(db: AsyncSession, class_id: uuid.UUID) -> uuid.UUID | None:
    return await db.scalar(
        select(Application.id)
        .where(Application.class_id == class_id, Application.status == Status.WAITLISTED)
        .order_by(*_queue_order())
        .limit(1)
    )


async def fill_from_waitlist(db: AsyncSession, settings: Settings, class_id: uuid.UUID) -> int:
    """Offer free places of a class to the head of its waitlist, in queue order. The caller holds
    (or this takes) the class lock. Returns how many offers were made."""
    await db.execute(select(CareClass.id).where(CareClass.id == class_id).with_for_update())
    made = 0
    while True:
        head = await _waitlist_head(db, class_id)
        if head is None:
            return made
        app = (
            await db.execute(
                select(Application)
                .where(Application.id == head)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        if not await _take_offer_place(db, class_id):
            return made
        expires = utcnow() + dt.timedelta(days=settings.offer_expiry_days)
        await _set(db, app, Status.OFFERED, offer_expires_at=expires, automatic=True)
        made += 1


async def _release(db: AsyncSession, settings: Settings, app: Application, previous: str) -> None:
    """Give back the place ``app`` held in state ``previous``, then serve the waitlist."""
    if previous in HOLDING_OFFER:
        await _move_counts(db, app.class_id, offered=-1)
    elif previous == Status.ENROLLED:
        await _move_counts(db, app.class_id, enrolled=-1)
    else:
        return
    await fill_from_waitlist(db, settings, app.class_id)


async def offer(db: AsyncSession, settings: Settings, p: Principal, inst_id: uuid.UUID, app_id: uuid.UUID) -> None:
    app = await _lock(db, p, app_id, P.OFFER, inst_id)
    _require(app, {Status.SUBMITTED, Status.WAITLISTED}, "offer a place to")
    if app.status == Status.WAITLISTED and await _waitlist_head(db, app.class_id) != app.id:
        raise Conflict(
            "Offers from the waitlist go to its head; raise this application's priority first",
            detail_zh="候补名额须按顺序录取，如需优先请先调整优先级并说明理由",
            code="not_head_of_waitlist",
        )
    await _offer(db, settings, app, automatic=False)


async def waitlist(db: AsyncSession, p: Principal, inst_id: uuid.UUID, app_id: uuid.UUID) -> None:
    app = await _lock(db, p, app_id, P.WAITLIST, inst_id)
    _require(app, {Status.SUBMITTED}, "waitlist")
    free = await db.scalar(select(CareClass.capacity - _TAKEN).where(CareClass.id == app.class_id))
    if free and free > 0:
        raise Conflict(
            "The class has a free place: offer it instead of waitlisting",
            detail_zh="该班级仍有空余名额，请直接录取",
            code="class_has_vacancy",
        )
    await _set(db, app, Status.WAITLISTED)


async def reject(db: AsyncSession, p: Principal, inst_id: uuid.UUID, app_id: uuid.UUID, reason: str) -> None:
    app = await _lock(db, p, app_id, P.REJECT, inst_id)
    _require(app, {Status.SUBMITTED, Status.WAITLISTED}, "reject")
    app.reason = reason
    await _set(db, app, Status.REJECTED)


async def enrol(db: AsyncSession, p: Principal, inst_id: uuid.UUID, app_id: uuid.UUID) -> None:
    app = await _lock(db, p, app_id, P.ENROL, inst_id)
    _require(app, {Status.ACCEPTED}, "enrol")
    # The institution's entry-check rule (refuse, or a grace period) for a place that starts now.
    await entry_gate(db, app.institution_id, app.child_id)
    await _move_counts(db, app.class_id, offered=-1, enrolled=+1)
    await _set(db, app, Status.ENROLLED)


async def end(
    db: AsyncSession, settings: Settings, p: Principal, inst_id: uuid.UUID, app_id: uuid.UUID, reason: str | None
) -> None:
    app = await _lock(db, p, app_id, P.END, inst_id)
    _require(app, {Status.ENROLLED}, "end")
    app.reason = reason
    await _set(db, app, Status.ENDED)
    await _release(db, settings, app, Status.ENROLLED)


async def prioritise(
    db: AsyncSession, p: Principal, inst_id: uuid.UUID, app_id: uuid.UUID, priority: int, reason: str
) -> None:
    app = await _lock(db, p, app_id, P.PRIORITISE, inst_id)
    _require(app, {Status.SUBMITTED, Status.WAITLISTED}, "change the priority of")
    app.priority, app.priority_reason = priority, reason
    await db.flush()
    await _emit(db, app, app.status, priority=priority)


async def accept(db: AsyncSession, settings: Settings, p: Principal, app_id: uuid.UUID) -> None:
    app = await _lock(db, p, app_id, P.ACCEPT)
    _require(app, {Status.OFFERED}, "accept")
    if app.offer_expires_at is not None and app.offer_expires_at <= utcnow():
        await _set(db, app, Status.EXPIRED)
        await _release(db, settings, app, Status.OFFERED)
        await tx.commit_before_refusing(db)  # the expiry stands even though the acceptance is refused
        raise Conflict("The offer has expired", detail_zh="录取确认已过期", code="offer_expired")
    held = await db.scalar(
        select(Application.id).where(
            Application.child_id == app.child_id,
            Application.id != app.id,
            Application.status.in_([Status.ACCEPTED, Status.ENROLLED]),
        )
    )
    if held is not None:
        raise Conflict(
            "This child already holds a place; withdraw it first",
            detail_zh="该幼儿已有入托名额，请先撤回原名额",
            code="already_placed",
        )
    await _set(db, app, Status.ACCEPTED)


async def withdraw(db: AsyncSession, settings: Settings, p: Principal, app_id: uuid.UUID, reason: str | None) -> None:
    app = await _lock(db, p, app_id, P.WITHDRAW)
    _require(app, set(ACTIVE), "withdraw")
    previous = app.status
    app.reason = reason
    await _set(db, app, Status.WITHDRAWN)
    await _release(db, settings, app, previous)


async def class_capacity_changed(db: AsyncSession, settings: Settings, class_id: uuid.UUID) -> None:
    """More capacity or fewer offline children free places: serve the waitlist."""
    await fill_from_waitlist(db, settings, class_id)


@periodic("expired_offers")
async def expire_offers(db: AsyncSession, settings: Settings) -> int:
    """Offers not accepted in time expire; their places go to the waitlist."""
    due = list(
        (
            await db.execute(
                select(Application.id)
                .where(Application.status == Status.OFFERED, Application.offer_expires_at <= utcnow())
                .order_by(Application.offer_expires_at)
                .limit(500)
            )
        ).scalars()
    )
    count = 0
    for app_id in due:
        app = await _lock(db, None, app_id, None)
        if app.status != Status.OFFERED:
            continue
        await _set(db, app, Status.EXPIRED)
        await _release(db, settings, app, Status.OFFERED)
        count += 1
    return count


# ---------------------------------------------------------------------------------------------- reads


def _application_select() -> Select[Any]:
    position = over(func.row_number(), partition_by=(Application.class_id, Application.status), order_by=_queue_order())
    return (
        select(
            Application,
            Child.name.label("child_name"),
            Child.birth_date.label("child_birth_date"),
            Institution.name.label("institution_name"),
            CareClass.name.label("class_name"),
            CareClass.class_type.label("class_type"),
            position.label("position"),
        )
        .join(Child, Child.id == Application.child_id)
        .join(Institution, Institution.id == Application.institution_id)
        .join(CareClass, CareClass.id == Application.class_id)
    )


async def my_applications(db: AsyncSession, p: Principal) -> list[ApplicationOut]:
    # The window runs over every application of the classes concerned, then the outer query keeps
    # the caller's: a waitlist position counts the other families too.
    ranked = (
        _application_select()
        .where(Application.class_id.in_(select(Application.class_id).where(P.LIST_MINE.where(p))))
        .subquery()
    )
    rows = await db.execute(
        select(ranked)
        .where(ranked.c.child_id.in_(select(Guardianship.child_id).where(Guardianship.account_id == p.account_id)))
        .order_by(ranked.c.seq.desc())
    )
    return [ApplicationOut(**_out_from_flat(r)) for r in rows]


def _out_from_flat(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "child_id": r.child_id,
        "child_name": r.child_name,
        "institution_id": r.institution_id,
        "institution_name": r.institution_name,
        "class_id": r.class_id,
        "class_name": r.class_name,
        "class_type": r.class_type,
        "mode": r.mode,
        "start_date": r.start_date,
        "status": r.status,
        "status_zh": STATUS_ZH[Status(r.status)],
        "priority": r.priority,
        "waitlist_position": r.position if r.status == Status.WAITLISTED else None,
        "offer_expires_at": r.offer_expires_at,
        "reason": r.reason,
        "submitted_at": r.submitted_at,
        "updated_at": r.updated_at,
    }


async def _ranked_one(db: AsyncSession, app_id: uuid.UUID) -> Any:
    class_id = select(Application.class_id).where(Application.id == app_id).scalar_subquery()
    ranked = _application_select().where(Application.class_id == class_id).subquery()
    return (await db.execute(select(ranked).where(ranked.c.id == app_id))).one_or_none()


async def application_detail(db: AsyncSession, p: Principal, app_id: uuid.UUID) -> ApplicationDetail:
    visible = await db.scalar(select(Application.id).where(Application.id == app_id, P.READ.where(p)))
    if visible is None:
        raise NotFound("application")
    return await application_view(db, app_id)


async def application_view(db: AsyncSession, app_id: uuid.UUID) -> ApplicationDetail:
    """An application with its history (callers have checked access)."""
    row = await _ranked_one(db, app_id)
    if row is None:
        raise NotFound("application")
    audit.read_children(db, [row.child_id])  # recorded when staff read it (core/audit.py)
    events = await history(db, "application", app_id)
    return ApplicationDetail(
        **_out_from_flat(row),
        history=[HistoryItem(event_id=e.id, type=e.type, status=e.payload["status"], at=e.created_at) for e in events],
    )


async def queue(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, status: str | None, class_id: uuid.UUID | None
) -> list[QueueItem]:
    await load_institution(db, p, institution_id, P.QUEUE)
    ranked = _application_select().where(Application.institution_id == institution_id).subquery()
    stmt = select(ranked)
    if status is not None:
        stmt = stmt.where(ranked.c.status == status)
    if class_id is not None:
        stmt = stmt.where(ranked.c.class_id == class_id)
    order = {s: n for n, s in enumerate(["offered", "accepted", "submitted", "waitlisted", "enrolled"])}
    rows = (await db.execute(stmt)).all()
    rows.sort(key=lambda r: (order.get(r.status, 9), r.class_name, -r.priority, r.seq))
    audit.read_children(db, (r.child_id for r in rows))
    return [
        QueueItem(
            **_out_from_flat(r),
            child_birth_date=r.child_birth_date,
            child_age_months_at_start=age_in_months(r.child_birth_date, r.start_date),
        )
        for r in rows
    ]


async def desk_classes(db: AsyncSession, institution_id: uuid.UUID) -> list[dict[str, Any]]:
    counts = (
        select(
            Application.class_id,
            func.count().filter(Application.status == Status.WAITLISTED).label("waitlist"),
            func.count().filter(Application.status == Status.SUBMITTED).label("submitted"),
        )
        .where(Application.institution_id == institution_id)
        .group_by(Application.class_id)
        .subquery()
    )
    rows = await db.execute(
        select(CareClass, counts.c.waitlist, counts.c.submitted)
        .outerjoin(counts, counts.c.class_id == CareClass.id)
        .where(CareClass.institution_id == institution_id)
        .order_by(CareClass.class_type, CareClass.name)
    )
    out = []
    for cls, waitlisted, submitted in rows:
        rule = CLASS_RULES[ClassType(cls.class_type)]
        out.append(
            {
                "id": cls.id,
                "name": cls.name,
                "class_type": cls.class_type,
                "class_type_zh": rule.name_zh,
                "capacity": cls.capacity,
                "carers": cls.carers,
                "carer_ratio_ok": cls.capacity <= cls.carers * rule.children_per_carer,
                "offline_enrolled": cls.offline_count,
                "enrolled": cls.offline_count + cls.enrolled_count,
                "offered": cls.offered_count,
                "vacancies": cls.capacity - cls.places_taken,
                "waitlist": waitlisted or 0,
                "submitted": submitted or 0,
            }
        )
    return out
