"""Staff rosters: adding and removing members, linking platform accounts.

A blacklisted person (an entry in force for their ID hash) cannot be added to any roster: 409
``person_blacklisted``, without revealing the entry. The check runs under the same advisory lock as
blacklisting a person (``blacklist.service.lock_person``), so the two cannot interleave.
"""

from __future__ import annotations

import uuid

from sqlalchemy import case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account, RoleGrant
from backend.blacklist import idnumber
from backend.blacklist.models import person_blacklisted
from backend.blacklist.service import lock_person
from backend.core.authz import Principal, Role
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.institutions.models import Institution
from backend.staff import permissions as P
from backend.staff.models import STAFF_ROLES, StaffMember
from backend.staff.schemas import StaffMemberIn, StaffMemberOut


class PersonBlacklisted(Conflict):
    code = "person_blacklisted"
    detail_zh = "该人员已被列入黑名单，不得从事托育服务工作，不能加入工作人员名册"


def _out(m: StaffMember) -> StaffMemberOut:
    return StaffMemberOut(
        id=m.id,
        institution_id=m.institution_id,
        display_name=m.display_name,
        staff_role=m.staff_role,  # type: ignore[arg-type]
        id_number_masked=idnumber.masked(m.id_last4) or "",
        phone=m.phone,
        account_linked=m.account_id is not None,
        created_at=m.created_at,
    )


async def _institution(db: AsyncSession, p: Principal, institution_id: uuid.UUID, act: object) -> Institution:
    inst = (
        await db.execute(select(Institution).where(Institution.id == institution_id, act.where(p)))  # type: ignore[attr-defined]
    ).scalar_one_or_none()
    if inst is None:
        raise NotFound("institution")
    return inst


async def list_members(db: AsyncSession, p: Principal, institution_id: uuid.UUID) -> list[StaffMemberOut]:
    await _institution(db, p, institution_id, P.LIST)
    rows = await db.scalars(
        select(StaffMember)
        .where(StaffMember.institution_id == institution_id)
        .order_by(
            case({r: i for i, r in enumerate(STAFF_ROLES)}, value=StaffMember.staff_role),  # head first
            StaffMember.display_name,
            StaffMember.id,
        )
    )
    return [_out(m) for m in rows]


async def add_member(
    db: AsyncSession, settings: Settings, p: Principal, institution_id: uuid.UUID, data: StaffMemberIn
) -> StaffMemberOut:
    inst = await _institution(db, p, institution_id, P.ADD)
    h, last4 = idnumber.digest(settings, data.id_number)
    name = data.display_name.strip()
    if not name:
        raise RuleViolation("A name is required", detail_zh="请填写姓名", code="display_name_blank")
    await lock_person(db, h)  # held until commit: blacklisting this person now waits for us, and we for it
    if await db.scalar(select(person_blacklisted(h))):
        raise PersonBlacklisted(
            "This person is on the childcare blacklist and cannot be added to a staff roster. "
            "Contact the health commission for details"
        )
    if await db.scalar(select(StaffMember.id).where(StaffMember.institution_id == inst.id, StaffMember.id_hash == h)):
        raise Conflict(
            "This person is already on the institution's staff roster",
            detail_zh="该人员已在本机构工作人员名册中",
            code="already_on_roster",
        )
    account_id = grant_id = None
    if data.phone is not None:
        account_id = await db.scalar(
            select(Account.id).where(Account.phone == data.phone, Account.disabled_at.is_(None))
        )
        if account_id is not None:
            has_access = await db.scalar(
                select(RoleGrant.id).where(
                    RoleGrant.account_id == account_id,
                    RoleGrant.institution_id == inst.id,
                    RoleGrant.role.in_([Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN]),
                )
            )
            if has_access is None:
                grant = RoleGrant(
                    id=uuid.uuid4(), account_id=account_id, role=Role.INSTITUTION_STAFF, institution_id=inst.id
                )
                db.add(grant)
                await db.flush()
                grant_id = grant.id
    member = StaffMember(
        id=uuid.uuid4(),
        institution_id=inst.id,
        display_name=name,
        staff_role=data.staff_role,
        id_hash=h,
        id_last4=last4,
        phone=data.phone,
        account_id=account_id,
        grant_id=grant_id,
        created_by=p.account_id,
    )
    db.add(member)
    await db.flush()  # uq_staff_members_institution_id_id_hash decides races (409 already_on_roster)
    await db.refresh(member, ["created_at"])
    return _out(member)


async def remove_member(db: AsyncSession, p: Principal, institution_id: uuid.UUID, member_id: uuid.UUID) -> None:
    await _institution(db, p, institution_id, P.REMOVE)
    member = (
        await db.execute(
            select(StaffMember)
            .where(StaffMember.id == member_id, StaffMember.institution_id == institution_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("staff member")
    if member.grant_id is not None:
        await db.execute(delete(RoleGrant).where(RoleGrant.id == member.grant_id))
    await db.delete(member)
    await db.flush()
