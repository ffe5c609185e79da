"""The officers' desk: the queue of complaints routed to a department, a complaint in full, status
changes with public and internal notes, notes alone, possible duplicates and merging.

Who: officers of the departments a complaint is routed to (city-wide officers all of them, unit
officers those of their unit or with no unit yet) and city admins — ``permissions.routed_to``.
Everything is read and loaded through that scope, so another department's complaint answers 404.

Statuses (``models.TRANSITIONS``)::

    received ─> accepted ─> investigating ─> resolved
        any open status ─> rejected / referred, or duplicate (by merging only)

Every change locks the complaint's row (``SELECT … FOR UPDATE``) and checks the move against the
status it finds, so of two officers moving one complaint at once the second sees the first's result
and gets 409 ``transition_not_allowed``. Each change writes a ``ComplaintUpdate`` (a public note,
required, and an optional internal one, with the officer) and an event (``service.emit_change``):
the reporter hears every change; the institution's staff only once it has been accepted.

Time limits (``core/workdays.py``: working days of China's calendar, holidays and make-up days): a
complaint still ``received`` after ``ack_due_at`` is *ack-overdue*; one still open (received, accepted,
investigating) after ``resolve_due_at`` is *resolve-overdue*. The queue puts urgent, then overdue
complaints first, then the oldest.

Duplicates: ``similar`` suggests complaints of the same category filed in the last 30 days within
250 m (cube/earthdistance through the GiST index ``ix_complaints_earth``) or about the same
institution. ``merge`` makes a complaint ``duplicate`` of another (which must not be a duplicate
itself); complaints already merged into it follow it to the new original, so there are no chains.
Both rows are locked in id order, each checked as soon as it is locked, so concurrent merges cannot
deadlock.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, func, literal, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.accounts.names import name_columns, shown_name
from backend.complaints import permissions as P
from backend.complaints import service
from backend.complaints.models import CLOSED, OPEN, STATUS_ZH, STATUSES, TRANSITIONS, Complaint, ComplaintUpdate
from backend.complaints.routing import CATEGORIES
from backend.complaints.schemas import (
    ComplaintRef,
    DeskComplaint,
    DeskItem,
    DeskUpdate,
    MergeIn,
    NoteIn,
    SimilarItem,
    TransitionIn,
)
from backend.core.authz import Action, Principal
from backend.core.clock import utcnow
from backend.core.errors import BadRequest, Conflict, Forbidden, NotFound, RuleViolation
from backend.core.storage import Storage
from backend.files import service as files
from backend.files.models import Upload
from backend.files.schemas import PresignedOut
from backend.government.models import Unit
from backend.institutions.models import Institution

SIMILAR_RADIUS_M = 250.0
SIMILAR_DAYS = 30
SIMILAR_LIMIT = 20
PHOTO_URL_TTL_S = 300
_STATUS = "(?:" + "|".join(STATUSES) + ")"
STATUS_LIST_PATTERN = f"^{_STATUS}(?:,{_STATUS})*$"  # a ``status`` query value: one status or a comma list


# ---------------------------------------------------------------------------------------------- rules


def ack_overdue(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Complaint.status == "received", Complaint.ack_due_at < now)


def resolve_overdue(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Complaint.status.in_(OPEN), Complaint.resolve_due_at < now)


def _not_allowed(current: str, wanted: str) -> Conflict:
    allowed = [s for s in TRANSITIONS.get(current, ()) if s != "duplicate"]
    return Conflict(
        f"A complaint that is {current} cannot become {wanted}"
        + (f" (it may become: {', '.join(allowed)})" if allowed else " (it is closed)"),
        detail_zh=f"投诉当前状态为“{STATUS_ZH[current]}”，不能变更为“{STATUS_ZH[wanted]}”",
        code="transition_not_allowed",
        extra={"status": current, "requested": wanted, "allowed": allowed},
    )


def _check_move(c: Complaint, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(c.status, ()):
        raise _not_allowed(c.status, wanted)


def _text(note: str | None) -> str | None:
    """A note as stored: surrounding blanks removed; nothing left means no note."""
    note = (note or "").strip()
    return note or None


def _public_note_required() -> RuleViolation:
    return RuleViolation(
        "Write a public note: the reporter sees it with the change",
        detail_zh="请填写对外说明（投诉人可见）",
        code="public_note_required",
    )


# ---------------------------------------------------------------------------------------------- reading


def _photo_count() -> Any:
    return (
        select(func.count())
        .select_from(Upload)
        .where(Upload.subject_type == service.SUBJECT, Upload.subject_id == Complaint.id)
        .correlate(Complaint)
        .scalar_subquery()
    )


def _item_columns(now: dt.datetime) -> tuple[Any, ...]:
    return (
        Complaint.id,
        Complaint.number,
        Complaint.category,
        Complaint.status,
        Complaint.urgent,
        Complaint.unit_code,
        Unit.name_zh.label("unit_zh"),
        Complaint.department_codes,
        Complaint.created_at,
        Complaint.ack_due_at,
        Complaint.resolve_due_at,
        ack_overdue(now).label("ack_overdue"),
        resolve_overdue(now).label("resolve_overdue"),
        Complaint.institution_id,
        Institution.name.label("institution_name"),
        Complaint.place_name,
        _photo_count().label("photos"),
    )


def _with_names(q: Any) -> Any:
    return (
        q.select_from(Complaint)
        .outerjoin(Institution, Institution.id == Complaint.institution_id)
        .outerjoin(Unit, Unit.code == Complaint.unit_code)
    )


def _item_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": service.reference(row.number),
        "category": row.category,
        "category_zh": CATEGORIES[row.category].name_zh,
        "status": row.status,
        "status_zh": STATUS_ZH[row.status],
        "urgent": row.urgent,
        "unit_code": row.unit_code,
        "unit_zh": row.unit_zh,
        "departments": list(row.department_codes),
        "created_at": row.created_at,
        "ack_due_at": row.ack_due_at,
        "resolve_due_at": row.resolve_due_at,
        "ack_overdue": bool(row.ack_overdue),
        "resolve_overdue": bool(row.resolve_overdue),
        "institution_id": row.institution_id,
        "institution_name": row.institution_name,
        "place_name": row.place_name,
        "photos": int(row.photos),
    }


def parse_statuses(values: Iterable[str] | None) -> list[str]:
    """``status`` as given in the query: repeated, comma-separated, or both. None given: the open ones."""
    wanted: list[str] = []
    for value in values or ():
        if not re.fullmatch(STATUS_LIST_PATTERN, value):
            raise BadRequest(
                f"Unknown status in {value!r}; use one or more of: {', '.join(STATUSES)} (comma-separated)",
                detail_zh="请求参数无效：status",
                code="validation_error",
                extra=[{"message": f"unknown status in {value!r}", "key": "status", "source": "query"}],
            )
        wanted.extend(s for s in value.split(",") if s not in wanted)
    return wanted or list(OPEN)


def _department_scope(p: Principal, department: str) -> ColumnElement[bool]:
    """Complaints routed to ``department`` that ``p`` may see as an officer of it."""
    dept = Complaint.department_codes.contains([department])
    if p.is_city_admin:
        return dept
    conds = [
        dept if unit is None else and_(dept, or_(Complaint.unit_code.is_(None), Complaint.unit_code == unit))
        for code, unit in p.officer_scopes()
        if code == department
    ]
    if not conds:
        raise Forbidden(
            f"You do not work for department {department!r}",
            detail_zh="您不属于该部门，无法查看其投诉队列",
            code="not_your_department",
            extra={"department": department},
        )
    return or_(*conds)


async def queue(
    db: AsyncSession,
    p: Principal,
    act: Action,
    *,
    department: str | None = None,
    statuses: Sequence[str] = OPEN,
    category: str | None = None,
    unit: int | None = None,
    urgent: bool | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[DeskItem]:
    """The complaints routed to the caller, filtered; urgent and overdue first, then the oldest."""
    now = utcnow()
    late = or_(ack_overdue(now), resolve_overdue(now))
    q = _with_names(select(*_item_columns(now))).where(act.where(p), Complaint.status.in_(list(statuses)))
    if department is not None:
        q = q.where(_department_scope(p, department))
    if category is not None:
        q = q.where(Complaint.category == category)
    if unit is not None:
        q = q.where(Complaint.unit_code == unit)
    if urgent is not None:
        q = q.where(Complaint.urgent.is_(urgent))
    if overdue:
        q = q.where(late)
    q = q.order_by(Complaint.urgent.desc(), late.desc(), Complaint.created_at, Complaint.id).limit(limit).offset(offset)
    return [DeskItem(**_item_fields(row)) for row in await db.execute(q)]


async def _updates(db: AsyncSession, complaint_id: uuid.UUID) -> list[DeskUpdate]:
    rows = await db.execute(
        select(ComplaintUpdate, *name_columns())
        .outerjoin(Account, Account.id == ComplaintUpdate.officer_id)
        .where(ComplaintUpdate.complaint_id == complaint_id)
        .order_by(ComplaintUpdate.id)
    )
    out = []
    for u, display_name, phone, email in rows:
        out.append(
            DeskUpdate(
                id=u.id,
                at=u.created_at,
                status=u.status,  # type: ignore[arg-type]
                status_zh=STATUS_ZH[u.status],
                previous_status=u.previous_status,  # type: ignore[arg-type]
                public_note=u.public_note,
                internal_note=u.internal_note,
                officer_id=u.officer_id,
                officer_name=shown_name(display_name, phone, email) if u.officer_id else None,
            )
        )
    return out


async def _photos(db: AsyncSession, storage: Storage, complaint_id: uuid.UUID) -> list[PresignedOut]:
    return await files.presigned_urls(
        db, storage, subject_type=service.SUBJECT, subject_id=complaint_id, expires_s=PHOTO_URL_TTL_S
    )


async def detail(db: AsyncSession, storage: Storage, p: Principal, complaint_id: uuid.UUID) -> DeskComplaint:
    now = utcnow()
    row = (
        await db.execute(
            _with_names(select(Complaint, *_item_columns(now))).where(
                Complaint.id == complaint_id, P.DESK_READ.where(p)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("complaint")
    c: Complaint = row.Complaint
    original = None
    if c.duplicate_of is not None:
        number = await db.scalar(select(Complaint.number).where(Complaint.id == c.duplicate_of))
        original = ComplaintRef(id=c.duplicate_of, reference=service.reference(number))  # type: ignore[arg-type]
    merged = await db.execute(
        select(Complaint.id, Complaint.number)
        .where(Complaint.duplicate_of == c.id, P.DESK_READ.where(p))
        .order_by(Complaint.number)
    )
    return DeskComplaint(
        **_item_fields(row),
        description=c.description,
        target_type=c.target_type,  # type: ignore[arg-type]
        lat=c.lat,
        lng=c.lng,
        address=c.address,
        anonymous=c.reporter_id is None,
        contact_name=c.contact_name,
        contact_phone=c.contact_phone,
        source=c.source,  # type: ignore[arg-type]
        updated_at=c.updated_at,
        acknowledged_at=c.acknowledged_at,
        accepted_at=c.accepted_at,
        closed_at=c.closed_at,
        duplicate_of=original,
        duplicates=[ComplaintRef(id=m.id, reference=service.reference(m.number)) for m in merged],
        photo_urls=await _photos(db, storage, c.id),
        updates=await _updates(db, c.id),
    )


# ---------------------------------------------------------------------------------------------- changes


def _move(
    db: AsyncSession, p: Principal, c: Complaint, status: str, public_note: str, internal_note: str | None
) -> None:
    """Apply a checked status change: timestamps, the history row and the event."""
    previous = c.status
    now = utcnow()
    c.status = status
    if previous == "received" and c.acknowledged_at is None:
        c.acknowledged_at = now
    if status == "accepted" and c.accepted_at is None:
        c.accepted_at = now
    if status in CLOSED:
        c.closed_at = now
    db.add(
        ComplaintUpdate(
            complaint_id=c.id,
            status=status,
            previous_status=previous,
            public_note=public_note,
            internal_note=internal_note,
            officer_id=p.account_id,
        )
    )
    service.emit_change(db, c, previous)


async def transition(db: AsyncSession, p: Principal, complaint_id: uuid.UUID, data: TransitionIn) -> None:
    """Move a complaint to ``data.status`` (flushes; the route commits)."""
    if data.status == "duplicate":
        raise RuleViolation(
            "A complaint becomes a duplicate by merging it into the original: POST …/merge",
            detail_zh="请通过“合并”将投诉标记为重复投诉",
            code="use_merge",
        )
    public_note = _text(data.public_note)
    if public_note is None:
        raise _public_note_required()
    c = await service.load(db, p, complaint_id, P.TRANSITION, lock=True)
    if data.expected_status is not None and data.expected_status != c.status:
        raise Conflict(
            f"The complaint is now {c.status}, not {data.expected_status}: reload it and decide again",
            detail_zh=f"投诉状态已变更为“{STATUS_ZH[c.status]}”，请刷新后重新处理",
            code="status_changed",
            extra={"status": c.status, "expected": data.expected_status},
        )
    _check_move(c, data.status)
    _move(db, p, c, data.status, public_note, _text(data.internal_note))
    await db.flush()


async def add_note(db: AsyncSession, p: Principal, complaint_id: uuid.UUID, data: NoteIn) -> None:
    """A note without a status change; an event only for a public note (flushes; the route commits)."""
    public_note, internal_note = _text(data.public_note), _text(data.internal_note)
    if public_note is None and internal_note is None:
        raise RuleViolation(
            "Write a public or an internal note", detail_zh="请填写对外说明或内部备注", code="note_required"
        )
    c = await service.load(db, p, complaint_id, P.NOTE, lock=True)  # the status recorded is the current one
    db.add(
        ComplaintUpdate(
            complaint_id=c.id,
            status=c.status,
            previous_status=c.status,
            public_note=public_note,
            internal_note=internal_note,
            officer_id=p.account_id,
        )
    )
    if public_note is not None:
        service.emit_change(
            db, c, c.status, event="complaint.note", titles=("投诉有新的回复", "New reply on a complaint")
        )
    await db.flush()


async def merge(db: AsyncSession, p: Principal, complaint_id: uuid.UUID, data: MergeIn) -> None:
    """Make the complaint a duplicate of ``data.into`` (flushes; the route commits)."""
    if data.into == complaint_id:
        raise RuleViolation(
            "A complaint cannot be merged into itself", detail_zh="不能将投诉合并到其自身", code="merge_into_self"
        )
    public_note = _text(data.public_note)
    if public_note is None:
        raise _public_note_required()
    locked: dict[uuid.UUID, Complaint] = {}
    # Id order for every merge, so two merges of the same pair (either way round) cannot deadlock;
    # each row is checked as soon as it is locked, so a refused merge never waits holding a lock.
    for cid in sorted((complaint_id, data.into)):
        try:
            row = await service.load(db, p, cid, P.MERGE, lock=True)
        except NotFound:
            if cid == complaint_id:
                raise
            raise NotFound(
                "complaint to merge into",
                detail_zh="未找到要合并到的投诉，或您无权访问",
                code="merge_target_not_found",
                extra={"into": str(cid)},
            ) from None
        if cid == complaint_id:
            _check_move(row, "duplicate")
        elif row.status == "duplicate":
            raise Conflict(
                "That complaint is itself a duplicate: merge into its original",
                detail_zh="目标投诉本身是重复投诉，请合并到其原投诉",
                code="merge_into_duplicate",
                extra={"original": str(row.duplicate_of)},
            )
        locked[cid] = row
    c, original = locked[complaint_id], locked[data.into]
    c.duplicate_of = original.id
    _move(db, p, c, "duplicate", public_note, _text(data.internal_note))
    await db.flush()
    # Complaints merged into this one follow it, so an original is never itself a duplicate.
    await db.execute(
        update(Complaint)
        .where(Complaint.duplicate_of == c.id)
        .values(duplicate_of=original.id)
        .execution_options(synchronize_session=False)
    )
    await db.flush()


# ---------------------------------------------------------------------------------------------- duplicates


async def similar(db: AsyncSession, p: Principal, complaint_id: uuid.UUID) -> list[SimilarItem]:
    """Possible duplicates of the complaint: the same category, filed in the last 30 days, visible to
    the caller and not themselves duplicates, and within 250 m or about the same institution;
    nearest first (those without a position last), then newest."""
    c = await service.load(db, p, complaint_id, P.SIMILAR)
    now = utcnow()
    common = (
        Complaint.id != c.id,
        Complaint.category == c.category,
        Complaint.created_at >= now - dt.timedelta(days=SIMILAR_DAYS),
        Complaint.status != "duplicate",
        P.SIMILAR.where(p),
    )
    point = func.ll_to_earth(Complaint.lat, Complaint.lng)
    centre = func.ll_to_earth(literal(c.lat, Float), literal(c.lng, Float)) if c.lat is not None else None
    arms = []
    if centre is not None:
        # earth_box bounds the GiST index walk to the radius; earth_distance makes it exact.
        arms.append(
            select(Complaint.id).where(
                Complaint.lat.is_not(None),
                func.earth_box(centre, SIMILAR_RADIUS_M).op("@>")(point),
                func.earth_distance(centre, point) <= SIMILAR_RADIUS_M,
                *common,
            )
        )
    if c.institution_id is not None:
        arms.append(select(Complaint.id).where(Complaint.institution_id == c.institution_id, *common))
    if not arms:
        return []
    found = union(*arms).subquery("found") if len(arms) > 1 else arms[0].subquery("found")
    distance = func.earth_distance(centre, point) if centre is not None else literal(None, Float)
    q = (
        _with_names(select(*_item_columns(now), distance.label("distance_m")))
        .join(found, found.c.id == Complaint.id)
        .order_by(distance.asc().nulls_last(), Complaint.created_at.desc(), Complaint.id)
        .limit(SIMILAR_LIMIT)
    )
    return [
        SimilarItem(
            **_item_fields(row),
            distance_m=round(float(row.distance_m), 1) if row.distance_m is not None else None,
            same_institution=c.institution_id is not None and row.institution_id == c.institution_id,
        )
        for row in await db.execute(q)
    ]
