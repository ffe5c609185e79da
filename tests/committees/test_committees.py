"""Parent committees: appointments, terms, one chair at a time, elections, who may look."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.committees.models import CommitteeMember
from backend.committees.schemas import CandidateOut, CommitteeOut
from backend.core.clock import local_today
from tests.community import build_community
from tests.strict import strict

TODAY = local_today()


def term(start_days: int = 0, end_days: int = 365) -> dict[str, str]:
    return {
        "term_start": (TODAY + dt.timedelta(days=start_days)).isoformat(),
        "term_end": (TODAY + dt.timedelta(days=end_days)).isoformat(),
    }


@pytest.fixture
async def c(factory):
    return await build_community(factory)


def url(c, tail=""):
    return f"/api/institutions/{c.inst.id}/committee{tail}"


async def member_rows(db, c):
    return await db.scalar(
        select(func.count()).select_from(CommitteeMember).where(CommitteeMember.institution_id == c.inst.id)
    )


async def test_admin_appoints_a_parent_and_the_institutions_parents_see_the_committee(client, c):
    r = await client.post(
        url(c, "/members"), headers=c.admin.headers, json={"account_id": str(c.parent_a.id), "role": "member", **term()}
    )
    assert r.status_code == 201, r.text
    committee = strict(r.content, CommitteeOut)
    names = {m.account_id: m for m in committee.members}
    assert set(names) == {c.parent_a.id, c.member.id}
    assert names[c.member.id].role == "chair" and names[c.member.id].role_zh == "主任"
    shown = names[c.parent_a.id].name
    assert "****" in shown and shown != c.parent_a.account.phone  # masked, never a child's name

    for who in (c.parent_a, c.parent_b, c.staff, c.admin, c.city_admin):
        r = await client.get(url(c), headers=who.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()["members"]) == 2
    for label, headers in {
        "former": c.former.headers,
        "elsewhere": c.other_parent.headers,
        "staff elsewhere": c.other_staff.headers,
    }.items():
        r = await client.get(url(c), headers=headers)
        assert r.status_code == 404, label
    assert (await client.get(url(c))).status_code == 401


async def test_only_current_parents_can_be_appointed_and_nothing_is_written_otherwise(client, db, c):
    before = await member_rows(db, c)
    for outsider in (c.former, c.other_parent, c.staff):
        r = await client.post(
            url(c, "/members"), headers=c.admin.headers, json={"account_id": str(outsider.id), **term()}
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "not_a_parent"
    bad_terms = [term(10, 5), term(-400, -1), term(0, 5 * 365)]
    for t in bad_terms:
        r = await client.post(url(c, "/members"), headers=c.admin.headers, json={"account_id": str(c.parent_a.id), **t})
        assert r.status_code == 422, (t, r.text)
    assert await member_rows(db, c) == before


async def test_the_database_allows_one_chair_and_one_live_term_per_parent(client, db, c):
    r = await client.post(
        url(c, "/members"), headers=c.admin.headers, json={"account_id": str(c.parent_a.id), "role": "chair", **term()}
    )
    assert r.status_code == 409 and r.json()["code"] == "chair_taken"
    r = await client.post(
        url(c, "/members"), headers=c.admin.headers, json={"account_id": str(c.member.id), **term(100, 200)}
    )
    assert r.status_code == 409 and r.json()["code"] == "already_member"
    # After the chair's term, someone else may chair.
    r = await client.post(
        url(c, "/members"),
        headers=c.admin.headers,
        json={"account_id": str(c.parent_a.id), "role": "chair", **term(336, 700)},
    )
    assert r.status_code == 201, r.text


async def test_staff_and_parents_cannot_appoint(client, c):
    body = {"account_id": str(c.parent_a.id), **term()}
    assert (await client.post(url(c, "/members"), headers=c.staff.headers, json=body)).status_code == 403
    assert (await client.post(url(c, "/members"), headers=c.member.headers, json=body)).status_code == 403
    other_admin_inst = await client.post(
        f"/api/institutions/{c.inst.id}/committee/members", headers=c.other_staff.headers, json=body
    )
    assert other_admin_inst.status_code == 403


async def test_ending_a_membership_keeps_it_as_history(client, db, c):
    member_id = await db.scalar(select(CommitteeMember.id).where(CommitteeMember.account_id == c.member.id))
    r = await client.delete(url(c, f"/members/{member_id}"), headers=c.admin.headers)
    assert r.status_code == 204, r.text
    assert (await client.get(url(c), headers=c.parent_a.headers)).json()["members"] == []
    past = (await client.get(url(c, "?include_past=true"), headers=c.parent_a.headers)).json()["members"]
    assert len(past) == 1 and past[0]["ended_at"] is not None and past[0]["current"] is False
    assert (await client.delete(url(c, f"/members/{member_id}"), headers=c.admin.headers)).status_code == 404


async def test_an_election_replaces_the_committee_for_its_term(client, db, c):
    start = TODAY + dt.timedelta(days=10)
    r = await client.post(
        url(c, "/elections"),
        headers=c.admin.headers,
        json={
            "held_on": TODAY.isoformat(),
            "term_start": start.isoformat(),
            "term_end": (start + dt.timedelta(days=365)).isoformat(),
            "members": [
                {"account_id": str(c.parent_a.id), "role": "chair"},
                {"account_id": str(c.parent_b.id)},
            ],
        },
    )
    assert r.status_code == 201, r.text
    members = {m.account_id: m for m in strict(r.content, CommitteeOut).members}
    assert members[c.parent_a.id].role == "chair" and members[c.parent_a.id].source == "elected"
    assert members[c.parent_b.id].current is False  # the term starts in ten days
    # The old chair's term now ends the day before the new one.
    old = await db.scalar(
        select(CommitteeMember)
        .where(CommitteeMember.account_id == c.member.id)
        .execution_options(populate_existing=True)
    )
    assert old.term_end == start - dt.timedelta(days=1) and old.ended_at is None


async def test_bad_election_results_are_refused_whole(client, db, c):
    before = await member_rows(db, c)
    base = {"held_on": TODAY.isoformat(), **term(1, 300)}
    cases = [
        {
            **base,
            "members": [
                {"account_id": str(c.parent_a.id), "role": "chair"},
                {"account_id": str(c.parent_b.id), "role": "chair"},
            ],
        },
        {**base, "members": [{"account_id": str(c.parent_a.id)}, {"account_id": str(c.parent_a.id)}]},
        {**base, "members": [{"account_id": str(c.parent_a.id)}, {"account_id": str(c.other_parent.id)}]},
        {
            **base,
            "held_on": (TODAY + dt.timedelta(days=3)).isoformat(),
            "members": [{"account_id": str(c.parent_a.id)}],
        },
        {**base, "members": []},
    ]
    for body in cases:
        r = await client.post(url(c, "/elections"), headers=c.admin.headers, json=body)
        assert 400 <= r.status_code < 500, (body, r.text)
    assert await member_rows(db, c) == before


async def test_candidates_are_the_current_parents_with_their_classes(client, c):
    r = await client.get(url(c, "/candidates"), headers=c.admin.headers)
    assert r.status_code == 200, r.text
    cands = {x.account_id: x for x in strict(r.content, list[CandidateOut])}
    assert set(cands) == {c.parent_a.id, c.parent_b.id, c.member.id}
    assert cands[c.member.id].member is True and cands[c.parent_a.id].member is False
    assert "测试宝宝" not in r.text  # the children's names never appear
    assert (await client.get(url(c, "/candidates"), headers=c.staff.headers)).status_code == 403


def test_concurrent_chair_appointments_leave_exactly_one_chair(server_url):
    """Two admins name two different chairs at the same moment, each in its own transaction through
    the real service: the exclusion constraint lets one commit and refuses the other."""
    import uuid

    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from backend.committees import service
    from backend.committees.schemas import AppointIn
    from backend.core.authz import Grant, Principal, Role
    from tests.live import scratch_database
    from tests.world import World, account, execute

    async def scenario(url):
        world = await World(url, slots_tomorrow=False).build()
        admin_id, _ = await account(url, "institution_admin", world.inst)
        class_id = await world.care_class()
        parents = [(await world.placed_family(class_id))[0] for _ in range(2)]
        admin = Principal(admin_id, uuid.uuid4(), (Grant(Role.INSTITUTION_ADMIN, institution_id=world.inst),))
        engine = create_async_engine(url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def appoint(parent_id):
            async with sessions() as db:
                try:
                    await service.appoint(
                        db,
                        admin,
                        world.inst,
                        AppointIn(
                            account_id=parent_id,
                            role="chair",
                            **{k: dt.date.fromisoformat(v) for k, v in term().items()},
                        ),
                    )
                    await db.commit()
                    return "ok"
                except IntegrityError as exc:
                    return getattr(exc.orig.__cause__, "constraint_name", None)

        try:
            outcomes = await asyncio.gather(*(appoint(p) for p in parents))
            chairs = await execute(
                url, select(func.count()).select_from(CommitteeMember).where(CommitteeMember.role == "chair")
            )
        finally:
            await engine.dispose()
        return outcomes, chairs

    with scratch_database(server_url, demo=False) as url:
        outcomes, chairs = asyncio.run(scenario(url))
    assert sorted(outcomes) == ["ex_committee_members_one_chair", "ok"]
    assert chairs[0][0] == 1
