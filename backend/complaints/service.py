"""Complaints: filing (with photos), routing, tracking, the reporter's and the institution's views,
public figures, and the events every status change writes.

Filing is all-or-nothing. The form is checked first (category, target, location inside Daqing,
photo count); the photos are then cleaned and stored (``files.store_uploads``: rows first, objects
after); the complaint, its first history row and its event are written and committed in one
transaction that also attaches the photos. If anything after storing fails, the stored photos are
deleted again (``files.discard_uploads``) before the error answers, so a failed filing leaves no
object behind.

Privacy: an anonymous complaint keeps no account id; rate limits key on a keyed digest of the
client address and device id, and the counters are deleted a day after their window. Events carry
ids, the category and the status — never the description, the reporter or contact details.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar.datastructures import UploadFile
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.complaints.models import STATUS_ZH, Complaint, ComplaintUpdate
from backend.complaints.routing import CATEGORIES, departments_for
from backend.complaints.schemas import (
    ComplaintForm,
    ComplaintPublic,
    Figure,
    Figures,
    Filed,
    MyComplaint,
    PhotosAdded,
    PhotosNotStored,
    PublicUpdate,
    StaffComplaint,
)
from backend.core import ratelimit, tx
from backend.core.authz import Action, Principal
from backend.core.clock import utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.core.outbox import emit
from backend.core.security import keyed_digest
from backend.core.storage import Storage, StorageUnavailable
from backend.core.workdays import add_working_days
from backend.files import service as files
from backend.government.models import Unit
from backend.government.units import nearest_unit
from backend.institutions.models import Institution
from backend.rooms.models import Room

MAX_PHOTOS = 6
PHOTO_PURPOSE = "complaint_photo"
SUBJECT = "complaint"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32: 5 bits a character


# ---------------------------------------------------------------------------------------------- codes


def new_tracking_code() -> str:
    """20 random base32 characters (100 bits), shown as four groups of five."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def tracking_digest(settings: Settings, code: str) -> bytes:
    return keyed_digest(settings.secret_key, "complaint-tracking", code.replace("-", "").upper())


def reference(number: int) -> str:
    return f"DQ-{number}"


# ---------------------------------------------------------------------------------------------- events


def _titles(c: Complaint, status: str) -> tuple[str, str]:
    if status == "received":
        return ("紧急投诉", "Urgent complaint") if c.urgent else ("新投诉", "New complaint")
    return f"投诉进展：{STATUS_ZH[status]}", f"Complaint {status}"


def emit_change(
    db: AsyncSession,
    c: Complaint,
    previous: str | None,
    *,
    event: str | None = None,
    titles: tuple[str, str] | None = None,
) -> None:
    """The event of a complaint's (new) status — or, with ``event``/``titles``, of a public note — for
    the reporter, the departments and, once the complaint has been accepted, the institution's staff."""
    title_zh, title = titles or _titles(c, c.status)
    emit(
        db,
        event or f"complaint.{c.status}",
        subject_type=SUBJECT,
        subject_id=c.id,
        accounts=[c.reporter_id] if c.reporter_id else [],
        institution_id=c.institution_id if c.accepted_at is not None else None,
        departments=c.department_codes,
        unit_code=c.unit_code,
        urgency="high" if c.urgent and event is None and c.status in ("received", "accepted") else "normal",
        payload={
            "complaint_id": str(c.id),
            "reference": reference(c.number),
            "category": c.category,
            "status": c.status,
            "previous_status": previous,
            "urgent": c.urgent,
            "title_zh": title_zh,
            "title": title,
        },
    )


# ---------------------------------------------------------------------------------------------- filing


async def _target(db: AsyncSession, form: ComplaintForm) -> tuple[int | None, str | None, tuple[float, float] | None]:
    """The complaint's unit, (for institutions) legal form and (for rooms) the room's position;
    checks the target is complete."""
    if (form.lat is None) != (form.lng is None):
        raise RuleViolation("Give both lat and lng", detail_zh="请同时提供纬度和经度", code="lat_lng_together")
    if form.room_id is not None and form.target_type != "room":
        raise RuleViolation(
            "A room is given only when the complaint is about one",
            detail_zh="投诉对象不是母婴室时不能选择母婴室",
            code="room_not_expected",
        )
    if form.target_type == "institution":
        if form.institution_id is None:
            raise RuleViolation("Choose the institution", detail_zh="请选择被投诉的机构", code="institution_required")
        inst = await db.get(Institution, form.institution_id)
        if inst is None:
            raise RuleViolation("No such institution", detail_zh="未找到该机构", code="unknown_institution")
        if form.lat is not None:
            await nearest_unit(db, form.lat, form.lng)  # type: ignore[arg-type]
        return inst.unit_code, inst.legal_form, None
    if form.target_type == "room":
        if form.room_id is None:
            raise RuleViolation("Choose the room", detail_zh="请选择被投诉的母婴室", code="room_required")
        room = await db.get(Room, form.room_id)
        if room is None:
            raise RuleViolation("No such room", detail_zh="未找到该母婴室", code="unknown_room")
        if form.institution_id is not None:
            raise RuleViolation(
                "An institution is given only when the complaint is about one",
                detail_zh="投诉对象为母婴室时不能选择机构",
                code="institution_not_expected",
            )
        return room.unit_code, None, (room.lat, room.lng)
    if form.institution_id is not None:
        raise RuleViolation(
            "An institution is given only when the complaint is about one",
            detail_zh="投诉对象为地点时不能选择机构",
            code="institution_not_expected",
        )
    if form.lat is not None:
        return await nearest_unit(db, form.lat, form.lng), None, None  # type: ignore[arg-type]
    if not form.address:
        raise RuleViolation(
            "Give a location on the map or an address",
            detail_zh="请在地图上选择位置或填写地址",
            code="location_required",
        )
    return None, None, None  # an address alone: the departments place it when they read it


async def _rate_limit(
    db: AsyncSession, settings: Settings, client: str, device: str | None, open311_client_id: uuid.UUID | None
) -> None:
    """Per client address (or, for an Open311 app, whose server files for all its users, per app)
    and per device."""
    error = {"detail_zh": "提交过于频繁，请稍后再试", "code": "rate_limited"}
    if open311_client_id is not None:
        key, limit = f"complaint:open311:{open311_client_id}", settings.complaint_max_per_hour_per_open311_client
    else:
        key, limit = f"complaint:client:{client}", settings.complaint_max_per_hour_per_client
    await ratelimit.enforce(db, settings.secret_key, key, limit=limit, window_s=3600, **error)
    if device:
        await ratelimit.enforce(
            db,
            settings.secret_key,
            f"complaint:device:{device}",
            limit=settings.complaint_max_per_hour_per_device,
            window_s=3600,
            **error,
        )


async def file_complaint(
    db: AsyncSession,
    settings: Settings,
    storage: Storage,
    p: Principal | None,
    form: ComplaintForm,
    photos: Sequence[UploadFile] = (),
    *,
    client: str,
    device: str | None = None,
    source: str = "app",
    open311_client_id: uuid.UUID | None = None,
    before_commit: Callable[[Filed], Awaitable[None]] | None = None,
) -> Filed:
    """File a complaint and commit it (see the module's description for the all-or-nothing rule).
    ``before_commit`` runs with the answer just before the commit; if it raises, nothing is filed."""
    await _rate_limit(db, settings, client, device, open311_client_id)
    if len(photos) > MAX_PHOTOS:
        raise RuleViolation(
            f"At most {MAX_PHOTOS} photos", detail_zh=f"最多上传{MAX_PHOTOS}张照片", code="too_many_photos"
        )
    unit_code, legal_form, room_position = await _target(db, form)
    lat, lng = form.lat, form.lng
    if lat is None and room_position is not None:
        lat, lng = room_position
    departments = departments_for(form.category, unit_code=unit_code, legal_form=legal_form)
    owner = p.account_id if p is not None else None
    upload_ids, photos_not_stored = await _store_photos(db, settings, storage, owner, photos)
    code = new_tracking_code()
    try:
        c = _new_complaint(
            settings, form, code, owner, unit_code, (lat, lng), departments, source=source, client_id=open311_client_id
        )
        db.add(c)
        await db.flush()
        await db.refresh(c, ["number"])
        db.add(ComplaintUpdate(complaint_id=c.id, status="received", previous_status=None))
        if upload_ids:
            await files.attach(
                db, owner_id=owner, upload_ids=upload_ids, purpose=PHOTO_PURPOSE, subject_type=SUBJECT, subject_id=c.id
            )
        emit_change(db, c, None)
        filed = Filed(
            id=c.id,
            reference=reference(c.number),
            tracking_code=code,
            status="received",
            urgent=c.urgent,
            departments=departments,
            photos=len(upload_ids),
            photos_not_stored=PhotosNotStored(count=photos_not_stored) if photos_not_stored else None,
        )
        if before_commit is not None:  # e.g. keep the answer for an Idempotency-Key, in this transaction
            await before_commit(filed)
        await tx.commit_with_cleanup(db)
    except BaseException:
        await db.rollback()
        if upload_ids:
            await files.discard_uploads(db, storage, upload_ids)
            await tx.commit_before_storage(db)
        raise
    return filed


async def _store_photos(
    db: AsyncSession, settings: Settings, storage: Storage, owner: uuid.UUID | None, photos: Sequence[UploadFile]
) -> tuple[list[uuid.UUID], int]:
    """The stored photos' upload ids, and how many photos were not stored (storage unavailable)."""
    if not photos:
        return [], 0
    try:
        return await files.store_uploads(db, settings, storage, owner_id=owner, purpose=PHOTO_PURPOSE, files=photos), 0
    except StorageUnavailable:
        # The report matters more than its photos: file the text now; the answer says the photos
        # were not stored, and the reporter adds them later with the tracking code (add_photos).
        return [], len(photos)


def _new_complaint(
    settings: Settings,
    form: ComplaintForm,
    code: str,
    owner: uuid.UUID | None,
    unit_code: int | None,
    position: tuple[float | None, float | None],
    departments: list[str],
    *,
    source: str,
    client_id: uuid.UUID | None,
) -> Complaint:
    """The complaint row as filed: received, routed to ``departments``, its time limits from now."""
    now = utcnow()
    return Complaint(
        id=uuid.uuid4(),
        tracking_digest=tracking_digest(settings, code),
        category=form.category,
        urgent=CATEGORIES[form.category].urgent,
        target_type=form.target_type,
        institution_id=form.institution_id,
        room_id=form.room_id,
        place_name=form.place_name,
        description=form.description.strip(),
        lat=position[0],
        lng=position[1],
        address=form.address,
        unit_code=unit_code,
        department_codes=departments,
        status="received",
        reporter_id=owner,
        contact_name=form.contact_name,
        contact_phone=form.contact_phone,
        source=source,
        open311_client_id=client_id,
        ack_due_at=add_working_days(now, settings.complaint_ack_working_days).at,
        resolve_due_at=add_working_days(now, settings.complaint_resolve_working_days).at,
    )


OPEN_STATUSES = ("received", "accepted", "investigating")


async def add_photos(
    db: AsyncSession,
    settings: Settings,
    storage: Storage,
    tracking_code: str,
    photos: Sequence[UploadFile],
    *,
    client: str,
    device: str | None = None,
) -> PhotosAdded:
    """Add photos to a complaint, authorised by its tracking code (the reporter's, signed in or not):
    for photos that could not be stored when it was filed. Only while it is open, at most MAX_PHOTOS
    in all; rate-limited like filing. Storage down: 503 ``storage_unavailable`` (retry later)."""
    digest = tracking_digest(settings, tracking_code)
    await _rate_limit(db, settings, f"photos:{client}", f"photos:{device}" if device else None, None)
    c = (await db.execute(select(Complaint).where(Complaint.tracking_digest == digest))).scalar_one_or_none()
    if c is None:
        raise NotFound("complaint", detail_zh="未找到与该查询码对应的投诉")
    if not photos:
        raise RuleViolation("Send at least one photo", detail_zh="请至少上传一张照片", code="no_photos")
    existing = len((await files.attachments(db, SUBJECT, [c.id]))[c.id])
    if c.status not in OPEN_STATUSES:
        raise Conflict("This complaint is closed", detail_zh="该投诉已办结，不能再补充照片", code="complaint_closed")
    if existing + len(photos) > MAX_PHOTOS:
        raise RuleViolation(
            f"At most {MAX_PHOTOS} photos", detail_zh=f"最多上传{MAX_PHOTOS}张照片", code="too_many_photos"
        )
    upload_ids = await files.store_uploads(
        db, settings, storage, owner_id=c.reporter_id, purpose=PHOTO_PURPOSE, files=photos
    )
    try:
        c = (await db.execute(select(Complaint).where(Complaint.id == c.id).with_for_update())).scalar_one()
        current = [a.id for a in (await files.attachments(db, SUBJECT, [c.id]))[c.id]]
        if c.status not in OPEN_STATUSES or len(current) + len(upload_ids) > MAX_PHOTOS:  # changed meanwhile
            raise Conflict("The complaint changed meanwhile, try again", detail_zh="投诉状态已变化，请重试")
        await files.attach(
            db,
            owner_id=c.reporter_id,
            upload_ids=[*current, *upload_ids],
            purpose=PHOTO_PURPOSE,
            subject_type=SUBJECT,
            subject_id=c.id,
            keep_others=True,
        )
        await tx.commit_with_cleanup(db)
    except BaseException:
        await files.discard_uploads(db, storage, upload_ids)
        await tx.commit_before_storage(db)
        raise
    return PhotosAdded(photos=len(current) + len(upload_ids))


# ---------------------------------------------------------------------------------------------- reading


async def _updates(db: AsyncSession, complaint_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PublicUpdate]]:
    """The public history of each complaint (one query for all of them)."""
    found: dict[uuid.UUID, list[PublicUpdate]] = {i: [] for i in complaint_ids}
    rows = await db.execute(
        select(
            ComplaintUpdate.complaint_id,
            ComplaintUpdate.created_at,
            ComplaintUpdate.status,
            ComplaintUpdate.public_note,
        )
        .where(
            ComplaintUpdate.complaint_id.in_(complaint_ids),
            # Status changes and public notes; an internal-only note is not even shown to have happened.
            or_(
                ComplaintUpdate.public_note.is_not(None),
                ComplaintUpdate.previous_status.is_distinct_from(ComplaintUpdate.status),
            ),
        )
        .order_by(ComplaintUpdate.id)
    )
    for r in rows:
        found[r.complaint_id].append(
            PublicUpdate(at=r.created_at, status=r.status, status_zh=STATUS_ZH[r.status], note=r.public_note)
        )
    return found


async def _public_views(db: AsyncSession, complaints: Sequence[Complaint]) -> list[dict[str, Any]]:
    """The public fields of each complaint: three queries for the whole list, not three per row."""
    ids = [c.id for c in complaints]
    institution_ids = {c.institution_id for c in complaints if c.institution_id}
    names = (
        dict(
            (
                await db.execute(select(Institution.id, Institution.name).where(Institution.id.in_(institution_ids)))
            ).all()
        )
        if institution_ids
        else {}
    )
    photos = await files.attachments(db, SUBJECT, ids)
    updates = await _updates(db, ids)
    return [
        {
            "reference": reference(c.number),
            "category": c.category,
            "category_zh": CATEGORIES[c.category].name_zh,
            "status": c.status,
            "status_zh": STATUS_ZH[c.status],
            "urgent": c.urgent,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "institution_name": names.get(c.institution_id) if c.institution_id else None,
            "place_name": c.place_name,
            "departments": list(c.department_codes),
            "photos": len(photos[c.id]),
            "updates": updates[c.id],
        }
        for c in complaints
    ]


async def track(db: AsyncSession, settings: Settings, code: str) -> ComplaintPublic:
    c = (
        await db.execute(select(Complaint).where(Complaint.tracking_digest == tracking_digest(settings, code)))
    ).scalar_one_or_none()
    if c is None:
        raise NotFound("complaint", detail_zh="未找到与该查询码对应的投诉")
    (fields,) = await _public_views(db, [c])
    return ComplaintPublic(**fields)


async def load(
    db: AsyncSession, p: Principal, complaint_id: uuid.UUID, act: Action, *, lock: bool = False
) -> Complaint:
    q = select(Complaint).where(Complaint.id == complaint_id, act.where(p))
    if lock:
        q = q.with_for_update()
    c = (await db.execute(q)).scalar_one_or_none()
    if c is None:
        raise NotFound("complaint")
    return c


async def mine(db: AsyncSession, p: Principal, act: Action) -> list[MyComplaint]:
    rows = list(
        (
            await db.execute(select(Complaint).where(act.where(p)).order_by(Complaint.created_at.desc()).limit(200))
        ).scalars()
    )
    views = await _public_views(db, rows)
    return [MyComplaint(id=c.id, description=c.description, **v) for c, v in zip(rows, views, strict=True)]


async def my_complaint(db: AsyncSession, p: Principal, complaint_id: uuid.UUID, act: Action) -> MyComplaint:
    c = await load(db, p, complaint_id, act)
    (fields,) = await _public_views(db, [c])
    return MyComplaint(id=c.id, description=c.description, **fields)


def _staff_view(c: Complaint, updates: list[PublicUpdate]) -> StaffComplaint:
    return StaffComplaint(
        id=c.id,
        reference=reference(c.number),
        category=c.category,  # type: ignore[arg-type]
        category_zh=CATEGORIES[c.category].name_zh,
        status=c.status,  # type: ignore[arg-type]
        status_zh=STATUS_ZH[c.status],
        description=c.description,
        created_at=c.created_at,
        accepted_at=c.accepted_at,
        updates=updates,
    )


async def institution_complaints(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, act: Action
) -> list[StaffComplaint]:
    if institution_id not in p.institutions():
        raise NotFound("institution")  # another institution's list answers 404, like every other object
    rows = list(
        (
            await db.execute(
                select(Complaint)
                .where(Complaint.institution_id == institution_id, act.where(p))
                .order_by(Complaint.created_at.desc())
                .limit(200)
            )
        ).scalars()
    )
    updates = await _updates(db, [c.id for c in rows])
    return [_staff_view(c, updates[c.id]) for c in rows]


async def institution_complaint(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, complaint_id: uuid.UUID, act: Action
) -> StaffComplaint:
    c = await load(db, p, complaint_id, act)
    if c.institution_id != institution_id:
        raise NotFound("complaint")
    return _staff_view(c, (await _updates(db, [c.id]))[c.id])


# ---------------------------------------------------------------------------------------------- figures


async def figures(db: AsyncSession) -> Figures:
    async def grouped(column: Any) -> dict[Any, int]:
        return dict((await db.execute(select(column, func.count()).group_by(column))).all())  # type: ignore[arg-type]

    by_category = await grouped(Complaint.category)
    by_status = await grouped(Complaint.status)
    by_unit = await grouped(Complaint.unit_code)
    units = dict((await db.execute(select(Unit.code, Unit.name_zh))).all())
    resolved = and_(Complaint.status == "resolved", Complaint.closed_at.is_not(None))
    median, within, count = (
        await db.execute(
            select(
                func.percentile_cont(0.5).within_group(
                    func.extract("epoch", Complaint.closed_at - Complaint.created_at) / 86400
                ),
                func.count().filter(Complaint.closed_at <= Complaint.resolve_due_at),
                func.count(),
            ).where(resolved)
        )
    ).one()
    return Figures(
        total=sum(by_status.values()),
        by_category=[
            Figure(key=code, name_zh=cat.name_zh, count=by_category.get(code, 0)) for code, cat in CATEGORIES.items()
        ],
        by_unit=[
            Figure(key=str(code) if code else "unknown", name_zh=units.get(code, "未定位"), count=n)
            for code, n in sorted(by_unit.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
        by_status=[Figure(key=s, name_zh=STATUS_ZH[s], count=by_status.get(s, 0)) for s in STATUS_ZH],
        median_days_to_resolve=round(float(median), 1) if median is not None else None,
        resolved_within_limit_pct=round(100.0 * within / count, 1) if count else None,
    )
