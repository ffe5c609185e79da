"""Ratings and their moderation, suggested corrections and new rooms, a room's history, bad input."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.accounts.models import Account
from backend.core.authz import Role
from backend.core.errors import CONSTRAINT_MESSAGES
from backend.rooms.models import Room, RoomManager, RoomRating, RoomRevision, RoomSuggestion
from backend.rooms.schemas import (
    DecisionOut,
    ModeratedRatingOut,
    MyRatingOut,
    RatingsOut,
    RoomRevisionOut,
    SuggestionOut,
)
from tests.strict import strict

HOURS = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "08:00", "closes": "20:00"}]


def room_values(**kw) -> dict:
    values = {
        "name": "大庆东站母婴室",
        "venue": "大庆东站",
        "venue_type": "transport_hub",
        "address": "萨尔图区站前路1号",
        "location_hint": "二楼候车厅B区",
        "lat": 46.59,
        "lng": 125.12,
        "opening_hours": HOURS,
        "exceptions": [],
        "amenities": ["changing_table", "nursing_chair"],
        "area_m2": 12,
        "independent": True,
        "managing_body": "大庆东站",
        "contact_phone": None,
    }
    values.update(kw)
    return values


async def make_room(db, **kw) -> Room:
    """A room as the map holds it: the row and its first revision."""
    values = room_values(**kw)
    room = Room(id=uuid.uuid4(), unit_code=230602, version=1, **values)
    db.add(room)
    await db.flush()
    db.add(RoomRevision(room_id=room.id, version=1, facts=values, changed_by=None, suggestion_id=None))
    await db.commit()
    return room


class Who:
    def __init__(self, account: Account, headers: dict[str, str]) -> None:
        self.account, self.headers = account, headers


async def person(factory, role: Role = Role.PARENT, **kw) -> Who:
    return Who(*await factory.signed_in(role, **kw))


async def manager_of(factory, db, room: Room) -> Who:
    who = await person(factory)
    db.add(RoomManager(room_id=room.id, account_id=who.account.id))
    await db.commit()
    return who


async def count(db, model, *where) -> int:
    return await db.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------------------------------------- ratings


async def test_rating_is_one_per_user_and_editable(client, db, factory):
    room = await make_room(db)
    parent = await person(factory, phone="13812345678")
    r = await client.put(f"/api/rooms/{room.id}/rating", headers=parent.headers, json={"stars": 4, "comment": "干净"})
    assert r.status_code == 200, r.text
    first = strict(r.content, MyRatingOut)
    r = await client.put(f"/api/rooms/{room.id}/rating", headers=parent.headers, json={"stars": 2})
    assert r.status_code == 200, r.text
    second = strict(r.content, MyRatingOut)
    assert second.id == first.id and second.stars == 2 and second.comment is None
    assert await count(db, RoomRating, RoomRating.room_id == room.id) == 1

    r = await client.get(f"/api/rooms/{room.id}/rating", headers=parent.headers)
    assert strict(r.content, MyRatingOut).stars == 2

    other = await person(factory)
    await client.put(f"/api/rooms/{room.id}/rating", headers=other.headers, json={"stars": 5, "comment": "很方便"})
    r = await client.get(f"/api/rooms/{room.id}/ratings")  # public
    assert r.status_code == 200, r.text
    out = strict(r.content, RatingsOut)
    assert (out.average, out.count, out.comments_total) == (3.5, 2, 1)
    assert [c.comment for c in out.comments] == ["很方便"]
    assert out.comments[0].by.startswith("1") and "****" in out.comments[0].by  # a masked phone


async def test_comments_newest_first_and_paginated(client, db, factory):
    room = await make_room(db)
    for n in range(3):
        who = await person(factory)
        r = await client.put(
            f"/api/rooms/{room.id}/rating", headers=who.headers, json={"stars": 3, "comment": f"第{n}条"}
        )
        assert r.status_code == 200
        await db.execute(  # distinct times: the transaction's now() is the same for every statement
            RoomRating.__table__.update()
            .where(RoomRating.room_id == room.id, RoomRating.comment == f"第{n}条")
            .values(updated_at=func.now() + func.make_interval(0, 0, 0, 0, 0, n))
        )
    await db.commit()
    r = await client.get(f"/api/rooms/{room.id}/ratings", params={"limit": 2})
    page = strict(r.content, RatingsOut)
    assert [c.comment for c in page.comments] == ["第2条", "第1条"] and page.comments_total == 3
    r = await client.get(f"/api/rooms/{room.id}/ratings", params={"limit": 2, "offset": 2})
    assert [c.comment for c in strict(r.content, RatingsOut).comments] == ["第0条"]


async def test_delete_own_rating(client, db, factory):
    room = await make_room(db)
    parent, other = await person(factory), await person(factory)
    await client.put(f"/api/rooms/{room.id}/rating", headers=parent.headers, json={"stars": 5})
    await client.put(f"/api/rooms/{room.id}/rating", headers=other.headers, json={"stars": 1})
    r = await client.delete(f"/api/rooms/{room.id}/rating", headers=parent.headers)
    assert r.status_code == 204, r.text
    assert await count(db, RoomRating, RoomRating.room_id == room.id) == 1  # the other's stays
    r = await client.delete(f"/api/rooms/{room.id}/rating", headers=parent.headers)
    assert r.status_code == 404
    out = strict((await client.get(f"/api/rooms/{room.id}/ratings")).content, RatingsOut)
    assert (out.average, out.count) == (1.0, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"stars": 0},
        {"stars": 6},
        {"stars": "5"},
        {},
        {"stars": 3, "comment": "好" * 501},
        {"stars": 3, "comment": "<script>alert(1)</script>"},
        {"stars": 3, "comment": "不错", "hidden": False},
    ],
)
async def test_bad_ratings_are_refused_and_write_nothing(client, db, factory, body):
    room = await make_room(db)
    parent = await person(factory)
    r = await client.put(f"/api/rooms/{room.id}/rating", headers=parent.headers, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "validation_error" and r.json()["detail_zh"]
    assert await count(db, RoomRating) == 0


async def test_rating_needs_an_account_and_a_room(client, db, factory):
    room = await make_room(db)
    r = await client.put(f"/api/rooms/{room.id}/rating", json={"stars": 5})
    assert r.status_code == 401
    parent = await person(factory)
    r = await client.put(f"/api/rooms/{uuid.uuid4()}/rating", headers=parent.headers, json={"stars": 5})
    assert r.status_code == 404
    assert (await client.get(f"/api/rooms/{uuid.uuid4()}/ratings")).status_code == 404


async def test_a_second_plain_insert_hits_the_one_per_user_constraint(db, factory):
    """The upsert never does, but the constraint is what guarantees it (mapped to 409 already_rated)."""
    room = await make_room(db)
    parent = await factory.account()
    db.add(RoomRating(room_id=room.id, account_id=parent.id, stars=4))
    await db.flush()
    with pytest.raises(IntegrityError) as caught:
        async with db.begin_nested():
            db.add(RoomRating(room_id=room.id, account_id=parent.id, stars=2))
            await db.flush()
    assert caught.value.orig.__cause__.constraint_name == "uq_room_ratings_one_per_user"
    assert CONSTRAINT_MESSAGES["uq_room_ratings_one_per_user"][0] == "already_rated"


# ------------------------------------------------------------------------------------------- moderation


async def test_managers_hide_and_show_comments_the_stars_still_count(client, db, factory):
    room = await make_room(db)
    manager = await manager_of(factory, db, room)
    rater = await person(factory)
    r = await client.put(
        f"/api/rooms/{room.id}/rating", headers=rater.headers, json={"stars": 1, "comment": "广告内容"}
    )
    rating_id = r.json()["id"]
    hide = f"/api/rooms/{room.id}/ratings/{rating_id}/hide"

    # a bystander and another room's manager cannot; the room's manager can
    bystander = await person(factory)
    other_manager = await manager_of(factory, db, await make_room(db, name="万达母婴室"))
    for who in (bystander, other_manager):
        r = await client.post(hide, headers=who.headers, json={"reason": "广告"})
        assert r.status_code == 404, r.text
    assert (await client.post(hide, json={"reason": "广告"})).status_code == 401
    r = await client.post(hide, headers=manager.headers, json={"reason": "广告"})
    assert r.status_code == 200, r.text
    out = strict(r.content, ModeratedRatingOut)
    assert out.hidden and out.hidden_reason == "广告"
    assert (await client.post(hide, headers=manager.headers, json={"reason": "广告"})).json()[
        "code"
    ] == "already_hidden"

    ratings = strict((await client.get(f"/api/rooms/{room.id}/ratings")).content, RatingsOut)
    assert ratings.comments == [] and (ratings.count, ratings.average) == (1, 1.0)  # stars still count
    mine = strict((await client.get(f"/api/rooms/{room.id}/rating", headers=rater.headers)).content, MyRatingOut)
    assert mine.hidden and mine.hidden_reason == "广告"

    # changing only the stars keeps it hidden; a new text lifts the hide
    await client.put(f"/api/rooms/{room.id}/rating", headers=rater.headers, json={"stars": 2, "comment": "广告内容"})
    assert strict((await client.get(f"/api/rooms/{room.id}/ratings")).content, RatingsOut).comments == []
    await client.put(f"/api/rooms/{room.id}/rating", headers=rater.headers, json={"stars": 2, "comment": "有热水"})
    assert len(strict((await client.get(f"/api/rooms/{room.id}/ratings")).content, RatingsOut).comments) == 1

    # a city admin moderates any room
    admin = await person(factory, Role.CITY_ADMIN)
    r = await client.post(hide, headers=admin.headers, json={"reason": "不实信息"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/rooms/{room.id}/ratings/{rating_id}/show", headers=manager.headers)
    assert r.status_code == 200 and not strict(r.content, ModeratedRatingOut).hidden
    r = await client.post(f"/api/rooms/{room.id}/ratings/{rating_id}/show", headers=manager.headers)
    assert r.status_code == 409 and r.json()["code"] == "not_hidden"


async def test_hiding_needs_a_reason_and_a_comment(client, db, factory):
    room = await make_room(db)
    manager = await manager_of(factory, db, room)
    rater = await person(factory)
    rating_id = (await client.put(f"/api/rooms/{room.id}/rating", headers=rater.headers, json={"stars": 3})).json()[
        "id"
    ]
    hide = f"/api/rooms/{room.id}/ratings/{rating_id}/hide"
    assert (await client.post(hide, headers=manager.headers, json={})).status_code == 400
    assert (await client.post(hide, headers=manager.headers, json={"reason": ""})).status_code == 400
    r = await client.post(hide, headers=manager.headers, json={"reason": "无"})
    assert r.status_code == 422 and r.json()["code"] == "no_comment"
    r = await client.post(
        f"/api/rooms/{room.id}/ratings/{uuid.uuid4()}/hide", headers=manager.headers, json={"reason": "x"}
    )
    assert r.status_code == 404


# ------------------------------------------------------------------------------------------ suggestions


async def suggest(client, who, room, changes, note=None):
    return await client.post(
        f"/api/rooms/{room.id}/suggestions", headers=who.headers, json={"changes": changes, "note": note}
    )


async def test_a_correction_is_approved_into_a_new_version_with_history(client, db, factory):
    room = await make_room(db)
    manager = await manager_of(factory, db, room)
    parent = await person(factory, phone="13900001234")
    r = await suggest(client, parent, room, {"area_m2": 15, "amenities": ["changing_table", "baby_bed"]}, "实地看过")
    assert r.status_code == 201, r.text
    s = strict(r.content, SuggestionOut)
    assert s.status == "pending" and s.base_version == 1 and not s.outdated and not s.new_room
    assert s.changes == {"area_m2": 15, "amenities": ["changing_table", "baby_bed"]}
    assert await count(db, RoomSuggestion) == 1

    # the manager sees it; another room's manager and a parent do not; the city admin does
    other_manager = await manager_of(factory, db, await make_room(db, name="万达母婴室"))
    admin = await person(factory, Role.CITY_ADMIN)
    for who, seen in ((manager, 1), (other_manager, 0), (parent, 0), (admin, 1)):
        r = await client.get("/api/rooms/suggestions", headers=who.headers, params={"status": "pending"})
        assert r.status_code == 200, r.text
        assert len(strict(r.content, list[SuggestionOut])) == seen
    r = await client.post(f"/api/rooms/suggestions/{s.id}/approve", headers=other_manager.headers, json={})
    assert r.status_code == 404

    r = await client.post(f"/api/rooms/suggestions/{s.id}/approve", headers=manager.headers, json={"note": "已核实"})
    assert r.status_code == 200, r.text
    d = strict(r.content, DecisionOut)
    assert d.version == 2 and sorted(d.applied_fields) == ["amenities", "area_m2"] and not d.outdated
    assert d.suggestion.status == "approved" and d.suggestion.decision_note == "已核实" and d.suggestion.decided_by
    await db.refresh(room)
    assert room.version == 2 and room.area_m2 == 15 and room.amenities == ["baby_bed", "changing_table"]
    assert room.name == "大庆东站母婴室"  # untouched fields stay

    r = await client.post(f"/api/rooms/suggestions/{s.id}/approve", headers=manager.headers, json={})
    assert r.status_code == 409 and r.json()["code"] == "already_decided"
    r = await client.post(f"/api/rooms/suggestions/{s.id}/reject", headers=admin.headers, json={})
    assert r.status_code == 409 and r.json()["code"] == "already_decided"

    r = await client.get(f"/api/rooms/{room.id}/history")  # public
    assert r.status_code == 200, r.text
    history = strict(r.content, list[RoomRevisionOut])
    assert [h.version for h in history] == [2, 1]
    assert sorted(history[0].changed_fields) == ["amenities", "area_m2"] and history[0].changes["area_m2"] == 15
    assert history[0].suggestion_number == s.number and history[0].changed_by and "****" in history[0].suggested_by
    assert history[1].suggestion_number is None and "name" in history[1].changed_fields
    r = await client.get("/api/rooms/suggestions", headers=manager.headers, params={"status": "approved"})
    assert [x.id for x in strict(r.content, list[SuggestionOut])] == [s.id]


async def test_an_outdated_suggestion_applies_field_by_field_and_says_so(client, db, factory):
    room = await make_room(db)
    manager = await manager_of(factory, db, room)
    a, b = await person(factory), await person(factory)
    first = (await suggest(client, a, room, {"name": "东站母婴室（二楼）"})).json()
    second = (await suggest(client, b, room, {"name": "东站母婴室", "contact_phone": "0459-1234567"})).json()
    r = await client.post(f"/api/rooms/suggestions/{first['id']}/approve", headers=manager.headers, json={})
    assert r.status_code == 200, r.text
    pending = strict((await client.get("/api/rooms/suggestions", headers=manager.headers)).content, list[SuggestionOut])
    assert [(x.id, x.outdated) for x in pending] == [(uuid.UUID(second["id"]), True)]

    r = await client.post(f"/api/rooms/suggestions/{second['id']}/approve", headers=manager.headers, json={})
    assert r.status_code == 200, r.text
    d = strict(r.content, DecisionOut)
    assert d.outdated and d.changed_since_base == ["name"] and d.version == 3
    assert sorted(d.applied_fields) == ["contact_phone", "name"]
    await db.refresh(room)
    assert (room.name, room.contact_phone, room.version) == ("东站母婴室", "0459-1234567", 3)


async def test_rejecting_changes_nothing(client, db, factory):
    room = await make_room(db)
    admin = await person(factory, Role.CITY_ADMIN)
    parent = await person(factory)
    s = (await suggest(client, parent, room, {"area_m2": None})).json()
    r = await client.post(f"/api/rooms/suggestions/{s['id']}/reject", headers=admin.headers, json={"note": "面积属实"})
    assert r.status_code == 200, r.text
    out = strict(r.content, SuggestionOut)
    assert out.status == "rejected" and out.decision_note == "面积属实" and out.decided_at
    await db.refresh(room)
    assert room.version == 1 and room.area_m2 == 12
    assert await count(db, RoomRevision, RoomRevision.room_id == room.id) == 1
    r = await client.post(f"/api/rooms/suggestions/{s['id']}/approve", headers=admin.headers, json={})
    assert r.status_code == 409


async def test_a_new_room_is_suggested_and_approved_by_a_city_admin(client, db, factory):
    parent = await person(factory)
    facts = room_values(name="新村公园母婴室", venue="新村公园", venue_type="park", lat=46.61, lng=125.05)
    r = await client.post("/api/rooms/suggestions", headers=parent.headers, json={"facts": facts, "note": "公园东门"})
    assert r.status_code == 201, r.text
    s = strict(r.content, SuggestionOut)
    assert s.new_room and s.room_id is None and s.base_version is None

    manager = await manager_of(factory, db, await make_room(db))  # manages some room, not new ones
    assert strict((await client.get("/api/rooms/suggestions", headers=manager.headers)).content, list) == []
    r = await client.post(f"/api/rooms/suggestions/{s.id}/approve", headers=manager.headers, json={})
    assert r.status_code == 404

    admin = await person(factory, Role.CITY_ADMIN)
    listed = strict((await client.get("/api/rooms/suggestions", headers=admin.headers)).content, list[SuggestionOut])
    assert s.id in [x.id for x in listed]
    r = await client.post(f"/api/rooms/suggestions/{s.id}/approve", headers=admin.headers, json={})
    assert r.status_code == 200, r.text
    d = strict(r.content, DecisionOut)
    assert d.version == 1 and d.suggestion.room_id is not None and d.suggestion.new_room
    room = await db.get(Room, d.suggestion.room_id)
    assert room.name == "新村公园母婴室" and room.venue_type == "park"
    history = strict((await client.get(f"/api/rooms/{room.id}/history")).content, list[RoomRevisionOut])
    assert [(h.version, h.suggestion_number) for h in history] == [(1, s.number)]


BAD_CHANGES = [
    ({"amenities": ["sauna"]}, 400, "validation_error"),
    ({"venue_type": "spaceport"}, 400, "validation_error"),
    ({"name": None}, 400, "validation_error"),
    ({"name": "<b>x</b>"}, 400, "validation_error"),
    ({"colour": "pink"}, 400, "validation_error"),
    ({"lat": 91}, 400, "validation_error"),
    ({"opening_hours": [{"days": [1], "opens": "18:00", "closes": "09:00"}]}, 422, "bad_hours"),
    ({"opening_hours": [{"days": [8], "opens": "08:00", "closes": "09:00"}]}, 400, "validation_error"),
    ({"opening_hours": [{"days": [1], "opens": "25:00", "closes": "26:00"}]}, 400, "validation_error"),
    (
        {"exceptions": [{"date": "2026-10-01", "closed": True, "opens": "08:00", "closes": "12:00"}]},
        422,
        "bad_exception",
    ),
    ({"exceptions": [{"date": "2026-10-01", "opens": "08:00"}]}, 422, "bad_exception"),
    ({"exceptions": [{"date": "2026-10-01"}]}, 422, "bad_exception"),
    ({"exceptions": [{"date": "2026-10-01", "opens": "12:00", "closes": "08:00"}]}, 422, "bad_hours"),
    ({}, 422, "empty_suggestion"),
    ({"name": "大庆东站母婴室"}, 422, "no_change"),
]


@pytest.mark.parametrize(("changes", "status", "code"), BAD_CHANGES)
async def test_bad_corrections_are_refused_and_write_nothing(client, db, factory, changes, status, code):
    room = await make_room(db)
    parent = await person(factory)
    r = await suggest(client, parent, room, changes)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["detail_zh"]
    assert await count(db, RoomSuggestion) == 0


@pytest.mark.parametrize(
    "facts",
    [
        room_values(amenities=["sauna"]),
        room_values(venue_type="spaceport"),
        room_values(opening_hours=[{"days": [1], "opens": "20:00", "closes": "08:00"}]),
        room_values(exceptions=[{"date": "2026-10-01", "closed": True, "opens": "08:00", "closes": "12:00"}]),
        {k: v for k, v in room_values().items() if k != "name"},
    ],
)
async def test_bad_new_rooms_are_refused_and_write_nothing(client, db, factory, facts):
    parent = await person(factory)
    r = await client.post("/api/rooms/suggestions", headers=parent.headers, json={"facts": facts})
    assert r.status_code in (400, 422), r.text
    assert await count(db, RoomSuggestion) == 0


async def test_suggestions_need_an_account_and_a_room(client, db, factory):
    room = await make_room(db)
    r = await client.post(f"/api/rooms/{room.id}/suggestions", json={"changes": {"area_m2": 20}})
    assert r.status_code == 401
    parent = await person(factory)
    r = await client.post(
        f"/api/rooms/{uuid.uuid4()}/suggestions", headers=parent.headers, json={"changes": {"area_m2": 20}}
    )
    assert r.status_code == 404
    assert (await client.get("/api/rooms/suggestions")).status_code == 401
    assert (await client.get(f"/api/rooms/{uuid.uuid4()}/history")).status_code == 404


def test_concurrent_approvals_of_one_suggestion_exactly_one_wins(server_url):
    """Four decisions on one suggestion at once, each in its own transaction through the real service:
    the row lock lets one apply it; the others wait, then see it decided (409), and the room gets
    exactly one new version."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from backend.core.authz import Grant, Principal
    from backend.core.errors import Conflict
    from backend.rooms import input as rooms_input
    from backend.rooms.schemas import DecisionIn
    from tests.live import scratch_database
    from tests.world import account, execute

    async def scenario(url):
        room_id, suggestion_id = uuid.uuid4(), uuid.uuid4()
        manager_id, _ = await account(url, "parent")
        admin_id, _ = await account(url, "city_admin")
        values = room_values()
        await execute(
            url,
            insert(Room).values(id=room_id, unit_code=230602, version=1, **values),
            insert(RoomRevision).values(room_id=room_id, version=1, facts=values),
            insert(RoomManager).values(room_id=room_id, account_id=manager_id),
            insert(RoomSuggestion).values(
                id=suggestion_id, room_id=room_id, base_version=1, changes={"area_m2": 30}, suggested_by=manager_id
            ),
        )
        deciders = [
            Principal(manager_id, uuid.uuid4(), (Grant(Role.PARENT),)),
            Principal(admin_id, uuid.uuid4(), (Grant(Role.CITY_ADMIN),)),
        ] * 2
        engine = create_async_engine(url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def decide(p, n):
            async with sessions() as db:
                try:
                    if n % 2:
                        await rooms_input.reject(db, p, suggestion_id, DecisionIn())
                    else:
                        await rooms_input.approve(db, p, suggestion_id, DecisionIn())
                    await asyncio.sleep(0.05)  # hold the lock a little: the others must wait for it
                    await db.commit()
                    return "approved" if n % 2 == 0 else "rejected"
                except Conflict as exc:
                    return exc.code

        try:
            outcomes = await asyncio.gather(*(decide(p, n) for n, p in enumerate(deciders)))
            state = await execute(
                url,
                select(Room.version, Room.area_m2, RoomSuggestion.status)
                .join(RoomSuggestion, RoomSuggestion.room_id == Room.id)
                .where(Room.id == room_id),
            )
            revisions = await execute(url, select(func.count()).select_from(RoomRevision))
        finally:
            await engine.dispose()
        return outcomes, state[0], revisions[0][0]

    with scratch_database(server_url, demo=False) as url:
        outcomes, (version, area, status), revisions = asyncio.run(scenario(url))
    winners = [o for o in outcomes if o != "already_decided"]
    assert len(winners) == 1 and outcomes.count("already_decided") == 3
    assert status == winners[0]
    if status == "approved":
        assert (version, area, revisions) == (2, 30, 2)
    else:
        assert (version, area, revisions) == (1, 12, 1)
