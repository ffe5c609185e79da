"""Ratings and suggestions are rate-limited per account per hour (ROOM_RATINGS_MAX_PER_HOUR,
ROOM_SUGGESTIONS_MAX_PER_HOUR) and five times that per client address: 429 with Retry-After, nothing
written; refused or failed writes do not use up the allowance."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from backend.core.authz import Role
from backend.rooms.models import RoomRating, RoomSuggestion
from tests.rooms.test_input import make_room, room_values


@pytest.fixture
def limits(app, settings):
    def apply(**overrides):
        app.state.settings = dataclasses.replace(settings, **overrides)
        return app.state.settings

    yield apply
    app.state.settings = settings


async def count(db, model) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)))


async def test_ratings_per_account_per_hour(client, db, factory, limits):
    limits(room_ratings_max_per_hour=3)
    rooms = [await make_room(db, name=f"母婴室{i}") for i in range(5)]
    _, headers = await factory.signed_in(Role.PARENT)
    answers = [
        (await client.put(f"/api/rooms/{room.id}/rating", headers=headers, json={"stars": 4})).status_code
        for room in rooms
    ]
    assert answers == [200, 200, 200, 429, 429]
    before = await count(db, RoomRating)
    refused = await client.put(f"/api/rooms/{rooms[4].id}/rating", headers=headers, json={"stars": 5})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert refused.json()["code"] == "rate_limited" and refused.json()["detail_zh"]
    assert await count(db, RoomRating) == before == 3
    # Another account is not held back by this one.
    _, other = await factory.signed_in(Role.PARENT)
    assert (await client.put(f"/api/rooms/{rooms[4].id}/rating", headers=other, json={"stars": 5})).status_code == 200


async def test_refused_input_does_not_use_up_the_allowance(client, db, factory, limits):
    limits(room_ratings_max_per_hour=1)
    room = await make_room(db)
    _, headers = await factory.signed_in(Role.PARENT)
    for _ in range(3):  # invalid: 400 before anything counts (and a failed write rolls its count back)
        assert (await client.put(f"/api/rooms/{room.id}/rating", headers=headers, json={"stars": 9})).status_code == 400
    assert (await client.put(f"/api/rooms/{room.id}/rating", headers=headers, json={"stars": 3})).status_code == 200


async def test_suggestions_per_account_per_hour_both_kinds_together(client, db, factory, limits):
    limits(room_suggestions_max_per_hour=2)
    room = await make_room(db)
    _, headers = await factory.signed_in(Role.PARENT)
    first = await client.post(
        f"/api/rooms/{room.id}/suggestions", headers=headers, json={"changes": {"area_m2": 15}, "note": "面积变了"}
    )
    assert first.status_code == 201, first.text
    second = await client.post(
        "/api/rooms/suggestions", headers=headers, json={"facts": room_values(name="新母婴室"), "note": "新开的"}
    )
    assert second.status_code == 201, second.text
    before = await count(db, RoomSuggestion)
    third = await client.post(
        f"/api/rooms/{room.id}/suggestions", headers=headers, json={"changes": {"area_m2": 16}, "note": "再改"}
    )
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0
    assert await count(db, RoomSuggestion) == before


async def test_many_accounts_from_one_address_are_limited_too(client, db, factory, limits):
    s = limits(room_ratings_max_per_hour=1)  # 1 per account, 5 per client address
    room = await make_room(db)
    answers = []
    for _ in range(s.room_ratings_max_per_hour * 5 + 2):
        _, headers = await factory.signed_in(Role.PARENT)
        answers.append(
            (await client.put(f"/api/rooms/{room.id}/rating", headers=headers, json={"stars": 1})).status_code
        )
    assert answers == [200] * 5 + [429, 429]


def test_the_defaults_are_documented(settings):
    from backend.core.config import REPO_ROOT

    readme = (REPO_ROOT / "docs" / "configuration.md").read_text()
    assert "`ROOM_RATINGS_MAX_PER_HOUR` / `ROOM_SUGGESTIONS_MAX_PER_HOUR`" in readme
    assert (settings.room_ratings_max_per_hour, settings.room_suggestions_max_per_hour) == (20, 10)
