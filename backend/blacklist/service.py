"""The blacklist's rules and writes.

Adding a person and adding a person to a staff roster both take a transaction-scoped advisory lock on
the person's ID hash before they look at the other table (``lock_person``). So the two can never
interleave: a roster insert that runs while a blacklist entry for the same person is being added
waits for it to commit and then sees it (409 ``person_blacklisted``); a blacklist entry added while a
roster insert is in flight waits for it and then reports that institution among the employers.
Duplicate active entries are refused by partial unique indexes (409 ``already_blacklisted``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, case, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import RoleGrant
from backend.blacklist import idnumber
from backend.blacklist import permissions as P
from backend.blacklist.models import BlacklistEntry, in_force
from backend.blacklist.schemas import (
    CheckIn,
    CheckOut,
    Decision,
    Employer,
    EntryCreated,
    EntryOut,
    InstitutionEntryIn,
    PersonEntryIn,
    PublicEntry,
    RevokeIn,
)
from backend.core import audit, outbox
from backend.core.authz import Principal, Role
from backend.core.clock import local_today, utcnow
from backend.core.config import Settings
from backend.core.db import autocommit_reads
from backend.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from backend.government.models import Department, Unit
from backend.institutions.models import Institution
from backend.staff.models import StaffMember


class AlreadyBlacklisted(Conflict):
    code = "already_blacklisted"
    detail_zh = "已在黑名单中（存在未撤销的记录）"


async def lock_person(db: AsyncSession, id_hash: bytes) -> None:
    """Serialise every roster and blacklist write about one person until the transaction ends."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(:ns, :key)"),
        {"ns": idnumber.LOCK_NAMESPACE, "key": idnumber.lock_key(id_hash)},
    )


def _require_manager(p: Principal) -> None:
    if not P.is_manager(p):
        raise Forbidden(
            "Only health and police officers and the city admin manage the blacklist",
            detail_zh="仅卫生健康、公安部门工作人员和市级管理员可管理黑名单",
        )


# ---------------------------------------------------------------------------------------------- reading


def _entry_select() -> Select[Any]:
    return (
        select(
            BlacklistEntry,
            Institution.name.label("institution_name"),
            Institution.unit_code.label("unit_code"),
            Department.short_zh.label("department_name_zh"),
            case((in_force(), True), else_=False).label("in_force"),
        )
        .join(Institution, Institution.id == BlacklistEntry.institution_id, isouter=True)
        .join(Department, Department.code == BlacklistEntry.department_code)
    )


def _out(row: Any) -> EntryOut:
    e: BlacklistEntry = row[0]
    return EntryOut(
        id=e.id,
        kind=e.kind,  # type: ignore[arg-type]
        institution_id=e.institution_id,
        institution_name=row.institution_name,
        unit_code=row.unit_code,
        person_name=e.person_name,
        id_number_masked=idnumber.masked(e.id_last4) if e.kind == "person" else None,
        reason=e.reason,
        department_code=e.department_code,
        department_name_zh=row.department_name_zh,
        decision_no=e.decision_no,
        decided_on=e.decided_on,
        effective_from=e.effective_from,
        effective_until=e.effective_until,
        in_force=row.in_force,
        created_at=e.created_at,
        revoked_at=e.revoked_at,
        revoke_reason=e.revoke_reason,
    )


async def _one(db: AsyncSession, entry_id: uuid.UUID) -> EntryOut:
    row = (await db.execute(_entry_select().where(BlacklistEntry.id == entry_id))).one()
    return _out(row)


async def list_entries(
    db: AsyncSession, p: Principal, *, kind: str | None, status: str, limit: int, offset: int
) -> list[EntryOut]:
    _require_manager(p)
    stmt = _entry_select().where(P.LIST.where(p))
    if kind is not None:
        stmt = stmt.where(BlacklistEntry.kind == kind)
    if status == "active":
        stmt = stmt.where(BlacklistEntry.revoked_at.is_(None))
    elif status == "revoked":
        stmt = stmt.where(BlacklistEntry.revoked_at.is_not(None))
    stmt = stmt.order_by(BlacklistEntry.created_at.desc(), BlacklistEntry.id).limit(limit).offset(offset)
    return [_out(r) for r in (await db.execute(stmt)).all()]


async def public_list(db: AsyncSession) -> list[PublicEntry]:
    """Institution entries in force, newest decision first (no person entry is ever listed here)."""
    await autocommit_reads(db)
    rows = await db.execute(
        select(
            BlacklistEntry,
            Institution.name,
            Institution.unit_code,
            Unit.name_zh,
            Department.short_zh,
        )
        .join(Institution, Institution.id == BlacklistEntry.institution_id)
        .join(Unit, Unit.code == Institution.unit_code)
        .join(Department, Department.code == BlacklistEntry.department_code)
        .where(BlacklistEntry.kind == "institution", in_force())
        .order_by(BlacklistEntry.decided_on.desc(), BlacklistEntry.id)
    )
    return [
        PublicEntry(
            id=e.id,
            institution_id=e.institution_id,  # type: ignore[arg-type]
            institution_name=name,
            unit_code=unit_code,
            unit_name_zh=unit_name,
            reason=e.reason,
            department_code=e.department_code,
            department_name_zh=dept_name,
            decision_no=e.decision_no,
            decided_on=e.decided_on,
            effective_from=e.effective_from,
            effective_until=e.effective_until,
        )
        for e, name, unit_code, unit_name, dept_name in rows.all()
    ]


async def check(db: AsyncSession, settings: Settings, p: Principal, data: CheckIn) -> CheckOut:
    _require_manager(p)
    h, _ = idnumber.digest(settings, data.id_number)
    rows = (
        await db.execute(
            _entry_select()
            .where(BlacklistEntry.id_hash == h, P.CHECK.where(p))
            .order_by(BlacklistEntry.created_at.desc(), BlacklistEntry.id)
        )
    ).all()
    entries = [_out(r) for r in rows]
    return CheckOut(blacklisted=any(e.in_force for e in entries), entries=entries)


# ---------------------------------------------------------------------------------------------- writing


async def _decision_values(db: AsyncSession, p: Principal, data: Decision) -> dict[str, Any]:
    """Validate the decision part of an entry (422 naming the rule; nothing is written)."""
    reason = data.reason.strip()
    if not reason:
        raise RuleViolation("A reason is required", detail_zh="请填写列入黑名单的原因", code="reason_blank")
    decision_no = data.decision_no.strip()
    if not decision_no:
        raise RuleViolation(
            "The decision document's number is required", detail_zh="请填写决定文书编号", code="decision_no_blank"
        )
    if data.decided_on > local_today():
        raise RuleViolation(
            "The decision date cannot be in the future", detail_zh="决定日期不能晚于今天", code="decided_in_future"
        )
    effective_from = data.effective_from or data.decided_on
    if data.effective_until is not None and data.effective_until <= effective_from:
        raise RuleViolation(
            "The end date must be after the start date",
            detail_zh="失效日期必须晚于生效日期",
            code="effective_until_before_from",
        )
    department = data.department_code
    if department is None:
        own = [d for d, _ in p.officer_scopes() if d in P.MANAGING_DEPARTMENTS]
        department = own[0] if own else "health"  # the city admin records for the health commission
    if await db.scalar(select(Department.code).where(Department.code == department)) is None:
        raise RuleViolation(
            f"Unknown department {department!r}", detail_zh="决定机关（部门代码）不存在", code="unknown_department"
        )
    return {
        "reason": reason,
        "department_code": department,
        "decision_no": decision_no,
        "decided_on": data.decided_on,
        "effective_from": effective_from,
        "effective_until": data.effective_until,
        "created_by": p.account_id,
    }


async def add_institution(db: AsyncSession, p: Principal, data: InstitutionEntryIn) -> EntryCreated:
    _require_manager(p)
    values = await _decision_values(db, p, data)
    inst = (
        await db.execute(
            select(Institution)
            .where(Institution.id == data.institution_id, P.ADD_INSTITUTION.where(p))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if inst is None:
        raise NotFound("institution")
    active = await db.scalar(
        select(BlacklistEntry.id).where(BlacklistEntry.institution_id == inst.id, BlacklistEntry.revoked_at.is_(None))
    )
    if active is not None:
        raise AlreadyBlacklisted(
            "This institution already has an active blacklist entry", extra={"entry_id": str(active)}
        )
    entry = BlacklistEntry(id=uuid.uuid4(), kind="institution", institution_id=inst.id, **values)
    db.add(entry)
    await db.flush()  # the partial unique index decides races (409 already_blacklisted)
    outbox.emit(
        db,
        "blacklist.institution_added",
        subject_type="blacklist_entry",
        subject_id=entry.id,
        institution_id=inst.id,
        departments=["health"],
        unit_code=inst.unit_code,
        urgency="high",
        payload={
            "entry_id": str(entry.id),
            "institution_id": str(inst.id),
            "title_zh": "机构已被列入黑名单",
            "title": "Institution blacklisted",
        },
    )
    audit.note(db, decision="blacklisted", kind="institution")
    return EntryCreated(entry=await _one(db, entry.id), employers=[])


async def add_person(db: AsyncSession, settings: Settings, p: Principal, data: PersonEntryIn) -> EntryCreated:
    _require_manager(p)
    h, last4 = idnumber.digest(settings, data.id_number)
    name = data.person_name.strip()
    if not name:
        raise RuleViolation("The person's name is required", detail_zh="请填写姓名", code="person_name_blank")
    values = await _decision_values(db, p, data)
    await lock_person(db, h)
    active = await db.scalar(
        select(BlacklistEntry.id).where(BlacklistEntry.id_hash == h, BlacklistEntry.revoked_at.is_(None))
    )
    if active is not None:
        raise AlreadyBlacklisted("This person already has an active blacklist entry", extra={"entry_id": str(active)})
    entry = BlacklistEntry(id=uuid.uuid4(), kind="person", id_hash=h, person_name=name, id_last4=last4, **values)
    db.add(entry)
    await db.flush()
    employers = await _employers(db, h)
    for emp in employers:
        admins = (
            await db.scalars(
                select(RoleGrant.account_id).where(
                    RoleGrant.institution_id == emp.institution_id, RoleGrant.role == Role.INSTITUTION_ADMIN
                )
            )
        ).all()
        # Ids only: the institution's admins and the health department learn that a member of the
        # roster is blacklisted; neither the name nor the decision is in the event.
        outbox.emit(
            db,
            "blacklist.person_employed",
            subject_type="staff_roster",  # links to the institution's roster (/staff/{id}/roster)
            subject_id=emp.institution_id,
            accounts=admins,
            departments=["health"],
            unit_code=emp.unit_code,
            urgency="high",
            payload={
                "entry_id": str(entry.id),
                "institution_id": str(emp.institution_id),
                "staff_member_id": str(emp.staff_member_id),
                "title_zh": "名册中有人员被列入黑名单，请立即处理",
                "title": "A person on your staff roster has been blacklisted",
            },
        )
    audit.note(db, decision="blacklisted", kind="person", employers=len(employers))
    return EntryCreated(entry=await _one(db, entry.id), employers=employers)


async def _employers(db: AsyncSession, h: bytes) -> list[Employer]:
    rows = await db.execute(
        select(StaffMember.id, Institution.id, Institution.name, Institution.unit_code)
        .join(Institution, Institution.id == StaffMember.institution_id)
        .where(StaffMember.id_hash == h)
        .order_by(Institution.name, Institution.id)
    )
    return [
        Employer(institution_id=iid, institution_name=name, unit_code=unit, staff_member_id=sid)
        for sid, iid, name, unit in rows.all()
    ]


async def revoke(db: AsyncSession, p: Principal, entry_id: uuid.UUID, data: RevokeIn) -> EntryOut:
    _require_manager(p)
    reason = data.reason.strip()
    if not reason:
        raise RuleViolation("A reason is required", detail_zh="请填写撤销原因", code="reason_blank")
    entry = (
        await db.execute(
            select(BlacklistEntry).where(BlacklistEntry.id == entry_id, P.REVOKE.where(p)).with_for_update()
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound("blacklist entry")
    if entry.revoked_at is not None:
        raise Conflict("This entry has already been revoked", detail_zh="该记录已撤销", code="already_revoked")
    entry.revoked_at = utcnow()
    entry.revoked_by = p.account_id
    entry.revoke_reason = reason
    await db.flush()
    audit.note(db, decision="revoked", kind=entry.kind)
    return await _one(db, entry.id)
