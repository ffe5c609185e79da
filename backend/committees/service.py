"""Parent committees: appointments, elections, ending a membership, and who can see the committee.

Rules (also in docs/domain/committees-and-notices.md):

* Only a *current parent* of the institution (a guardian of a child with an accepted or enrolled
  place there) may be appointed or elected.
* A term is at most three years and must not have ended already.
* An election's result replaces the committee for its term: memberships that started before the
  new term are cut to end the day before it; those starting within it are ended (kept as history).
* The database refuses two live terms of one parent that overlap, and two chairs at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.accounts.names import name_columns, shown_name
from backend.committees import permissions as P
from backend.committees.models import ROLE_ZH, SOURCE_ZH, CommitteeMember
from backend.committees.schemas import (
    AppointIn,
    CandidateOut,
    CommitteeOut,
    ElectionIn,
    MemberOut,
)
from backend.core.authz import Principal
from backend.core.clock import local_today, utcnow
from backend.core.errors import NotFound, RuleViolation
from backend.enrolment.links import parent_accounts, placed_guardians
from backend.institutions.models import CareClass
from backend.institutions.queries import load_institution

MAX_TERM_DAYS = 3 * 366


def _check_term(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise RuleViolation(
            "The term must end on or after its start", detail_zh="任期结束日期不能早于开始日期", code="term_order"
        )
    if (end - start).days > MAX_TERM_DAYS:
        raise RuleViolation("A term lasts at most three years", detail_zh="任期最长三年", code="term_too_long")
    if end < local_today():
        raise RuleViolation("The term has already ended", detail_zh="该任期已结束", code="term_in_past")


async def _require_parents(db: AsyncSession, institution_id: uuid.UUID, account_ids: list[uuid.UUID]) -> None:
    parents = set((await db.execute(parent_accounts(institution_id))).scalars())
    missing = [str(a) for a in account_ids if a not in parents]
    if missing:
        raise RuleViolation(
            "Committee members must be parents of a child placed at the institution",
            detail_zh="家长委员会成员须为本机构在托（或已确认入托）幼儿的家长",
            code="not_a_parent",
            extra={"account_ids": missing},
        )


async def _one_change_at_a_time(db: AsyncSession, institution_id: uuid.UUID) -> None:
    """Changes to one institution's committee run one after the other (a transaction-scoped advisory
    lock). Two concurrent chair appointments would otherwise both insert and then each wait on the
    other's exclusion-constraint check: a deadlock (seen on PostgreSQL 15). Serialized, the second
    sees the first's committed chair and is refused by the constraint."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"committee:{institution_id}"}
    )


async def appoint(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: AppointIn) -> uuid.UUID:
    await load_institution(db, p, institution_id, P.APPOINT)
    await _one_change_at_a_time(db, institution_id)
    _check_term(data.term_start, data.term_end)
    await _require_parents(db, institution_id, [data.account_id])
    member = CommitteeMember(
        id=uuid.uuid4(),
        institution_id=institution_id,
        account_id=data.account_id,
        role=data.role,
        source="appointed",
        term_start=data.term_start,
        term_end=data.term_end,
        created_by=p.account_id,
    )
    db.add(member)
    await db.flush()
    return member.id


async def record_election(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: ElectionIn) -> None:
    await load_institution(db, p, institution_id, P.ELECTION)
    await _one_change_at_a_time(db, institution_id)
    _check_term(data.term_start, data.term_end)
    if data.held_on > local_today():
        raise RuleViolation(
            "The election has not been held yet", detail_zh="选举日期不能晚于今天", code="election_in_future"
        )
    if data.held_on > data.term_start:
        raise RuleViolation(
            "The term starts on or after the election", detail_zh="任期须在选举之后开始", code="term_before_election"
        )
    accounts = [m.account_id for m in data.members]
    if len(set(accounts)) != len(accounts):
        raise RuleViolation("A parent is listed twice", detail_zh="名单中有重复的家长", code="duplicate_member")
    if sum(m.role == "chair" for m in data.members) > 1:
        raise RuleViolation("A committee has one chair", detail_zh="家长委员会只能有一名主任", code="chair_taken")
    await _require_parents(db, institution_id, accounts)

    live = and_(CommitteeMember.institution_id == institution_id, CommitteeMember.ended_at.is_(None))
    # Earlier terms running into the new one end the day before it; later ones give way entirely.
    await db.execute(
        update(CommitteeMember)
        .where(live, CommitteeMember.term_start < data.term_start, CommitteeMember.term_end >= data.term_start)
        .values(term_end=data.term_start - dt.timedelta(days=1))
    )
    await db.execute(
        update(CommitteeMember)
        .where(live, CommitteeMember.term_start >= data.term_start, CommitteeMember.term_start <= data.term_end)
        .values(ended_at=utcnow(), ended_by=p.account_id)
    )
    for m in data.members:
        db.add(
            CommitteeMember(
                id=uuid.uuid4(),
                institution_id=institution_id,
                account_id=m.account_id,
                role=m.role,
                source="elected",
                term_start=data.term_start,
                term_end=data.term_end,
                created_by=p.account_id,
            )
        )
    await db.flush()


async def end_membership(db: AsyncSession, p: Principal, institution_id: uuid.UUID, member_id: uuid.UUID) -> None:
    await load_institution(db, p, institution_id, P.END)
    ended = await db.scalar(
        update(CommitteeMember)
        .where(
            CommitteeMember.id == member_id,
            CommitteeMember.institution_id == institution_id,
            CommitteeMember.ended_at.is_(None),
        )
        .values(ended_at=utcnow(), ended_by=p.account_id)
        .returning(CommitteeMember.id)
    )
    if ended is None:
        raise NotFound("committee member")


def _current(today: dt.date) -> ColumnElement[bool]:
    return and_(
        CommitteeMember.ended_at.is_(None), CommitteeMember.term_start <= today, CommitteeMember.term_end >= today
    )


async def committee(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, *, include_past: bool = False
) -> CommitteeOut:
    await load_institution(db, p, institution_id, P.READ)
    today = local_today()
    q = (
        select(CommitteeMember, _current(today).label("current"), *name_columns())
        .join(Account, Account.id == CommitteeMember.account_id)
        .where(CommitteeMember.institution_id == institution_id)
        .order_by(
            CommitteeMember.term_start.desc(), (CommitteeMember.role == "chair").desc(), CommitteeMember.created_at
        )
    )
    if not include_past:
        q = q.where(CommitteeMember.ended_at.is_(None), CommitteeMember.term_end >= today)
    members = [_member_out(row) for row in (await db.execute(q)).all()]
    return CommitteeOut(institution_id=institution_id, members=members)


def _member_out(row: Any) -> MemberOut:
    m: CommitteeMember = row[0]
    return MemberOut(
        id=m.id,
        account_id=m.account_id,
        name=shown_name(row.display_name, row.phone, row.email),
        role=m.role,  # type: ignore[arg-type]
        role_zh=ROLE_ZH[m.role],
        source=m.source,  # type: ignore[arg-type]
        source_zh=SOURCE_ZH[m.source],
        term_start=m.term_start,
        term_end=m.term_end,
        current=bool(row.current),
        ended_at=m.ended_at,
    )


async def candidates(db: AsyncSession, p: Principal, institution_id: uuid.UUID) -> list[CandidateOut]:
    """The institution's current parents, with their children's classes (never the children's names)."""
    await load_institution(db, p, institution_id, P.CANDIDATES)
    links = placed_guardians().subquery()
    today = local_today()
    sitting = select(CommitteeMember.account_id).where(
        CommitteeMember.institution_id == institution_id, _current(today)
    )
    rows = await db.execute(
        select(Account.id, *name_columns(), CareClass.name.label("class_name"), Account.id.in_(sitting).label("member"))
        .join(links, links.c.account_id == Account.id)
        .join(CareClass, CareClass.id == links.c.class_id)
        .where(links.c.institution_id == institution_id)
        .order_by(Account.display_name.nulls_last(), Account.id, CareClass.name)
    )
    out: dict[uuid.UUID, CandidateOut] = {}
    for r in rows.all():
        cand = out.get(r.id)
        if cand is None:
            cand = out[r.id] = CandidateOut(
                account_id=r.id, name=shown_name(r.display_name, r.phone, r.email), classes=[], member=bool(r.member)
            )
        if r.class_name not in cand.classes:
            cand.classes.append(r.class_name)
    return list(out.values())
