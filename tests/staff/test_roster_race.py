"""Blacklisting a person and adding them to a roster at the same moment, on two real connections with
real commits: the roster insert waits for the blacklist transaction and is then refused; the other way
round, the blacklist entry waits for the roster insert and then reports the employer. Without the
advisory lock the first case would let a blacklisted person onto a roster (READ COMMITTED cannot see
the uncommitted entry)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.blacklist import service as blacklist
from backend.blacklist.models import BlacklistEntry
from backend.blacklist.schemas import PersonEntryIn
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.institutions.models import Institution
from backend.staff import service as roster
from backend.staff.models import StaffMember
from backend.staff.schemas import StaffMemberIn
from tests.blacklist.idnumbers import id_number
from tests.factories import random_phone, random_uscc


@pytest.fixture
async def world(engine):
    """An institution and an officer account, committed; everything made here is deleted afterwards."""
    officer_id, inst_id = uuid.uuid4(), uuid.uuid4()
    async with AsyncSession(engine) as s:
        s.add(Account(id=officer_id, phone=random_phone()))
        s.add(
            Institution(
                id=inst_id,
                name="并发测试托育中心",
                legal_form="for_profit",
                registration_no=random_uscc(),
                unit_code=230602,
                address="大庆市萨尔图区测试路9号",
                lat=46.63,
                lng=125.11,
                phone="0459-1234567",
                ownership="private",
                filing_status="filed",
            )
        )
        await s.commit()
    officer = Principal(officer_id, uuid.uuid4(), (Grant(Role.OFFICER, department_code="health"),))
    admin = Principal(officer_id, uuid.uuid4(), (Grant(Role.INSTITUTION_ADMIN, institution_id=inst_id),))
    yield officer, admin, inst_id
    async with AsyncSession(engine) as s:
        entries = (
            await s.scalars(text("SELECT id FROM blacklist_entries WHERE created_by = :a"), {"a": officer_id})
        ).all()
        await s.execute(delete(Event).where(Event.subject_id.in_([*entries, inst_id])))
        await s.execute(delete(BlacklistEntry).where(BlacklistEntry.created_by == officer_id))
        await s.execute(delete(StaffMember).where(StaffMember.institution_id == inst_id))
        await s.execute(delete(Institution).where(Institution.id == inst_id))
        await s.execute(delete(Account).where(Account.id == officer_id))
        await s.commit()


def _entry(number: str) -> PersonEntryIn:
    return PersonEntryIn(
        id_number=number, person_name="并发某", reason="虐待儿童", decision_no="测〔2026〕1号", decided_on=local_today()
    )


async def _wait_until_blocked_on_advisory_lock(engine, pid: int) -> None:
    """Poll pg_locks until backend ``pid`` waits for an advisory lock (bounded: fails after 10 s)."""
    async with engine.connect() as watcher:
        for _ in range(1000):
            waiting = await watcher.scalar(
                text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype = 'advisory' AND NOT granted"),
                {"pid": pid},
            )
            if waiting:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second transaction never waited for the advisory lock")


async def _pid(s: AsyncSession) -> int:
    return await s.scalar(text("SELECT pg_backend_pid()"))


async def test_a_roster_insert_racing_a_blacklisting_waits_and_is_refused(engine, settings, world):
    officer, admin, inst_id = world
    number = id_number()
    async with AsyncSession(engine) as a, AsyncSession(engine) as b:
        b_pid = await _pid(b)
        await blacklist.add_person(a, settings, officer, _entry(number))  # holds the lock, not committed
        adding = asyncio.create_task(
            roster.add_member(
                b, settings, admin, inst_id, StaffMemberIn(display_name="并发某", staff_role="cook", id_number=number)
            )
        )
        await _wait_until_blocked_on_advisory_lock(engine, b_pid)
        assert not adding.done()
        await a.commit()
        with pytest.raises(roster.PersonBlacklisted):
            await adding
        await b.rollback()
    async with AsyncSession(engine) as s:
        on_roster = await s.scalar(text("SELECT count(*) FROM staff_members WHERE institution_id = :i"), {"i": inst_id})
    assert on_roster == 0


async def test_a_blacklisting_racing_a_roster_insert_waits_and_reports_the_employer(engine, settings, world):
    officer, admin, inst_id = world
    number = id_number()
    async with AsyncSession(engine) as a, AsyncSession(engine) as b:
        a_pid = await _pid(a)
        added = await roster.add_member(
            b, settings, admin, inst_id, StaffMemberIn(display_name="并发某", staff_role="guard", id_number=number)
        )
        blacklisting = asyncio.create_task(blacklist.add_person(a, settings, officer, _entry(number)))
        await _wait_until_blocked_on_advisory_lock(engine, a_pid)
        assert not blacklisting.done()
        await b.commit()
        created = await blacklisting
        await a.commit()
    assert [e.staff_member_id for e in created.employers] == [added.id]
    assert created.employers[0].institution_id == inst_id
