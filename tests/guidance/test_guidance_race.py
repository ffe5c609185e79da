"""No overbooking of guidance events, against a real server: 40 families race for the last 4 places
of an event, and one family sending many registrations at once holds one place."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import func, insert, select, update

from backend.core.clock import utcnow
from backend.guidance.models import GuidanceEvent, GuidanceRegistration
from backend.institutions.models import Institution
from tests.live import live_server, scratch_database
from tests.world import World, execute

RACERS = 40
PLACES = 4
ROUNDS = 5
LIMITS = httpx.Limits(max_connections=50, keepalive_expiry=1.0)


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path_factory.mktemp("guidance-race"), DB_POOL_SIZE="25", DB_MAX_OVERFLOW="25") as srv,
    ):
        yield srv


@pytest.fixture(scope="module")
def world(server):
    async def build():
        world = await World(server.database_url, slots_tomorrow=False).build()
        await execute(
            server.database_url, update(Institution).where(Institution.id == world.inst).values(filing_status="filed")
        )
        families = [await world.family("并发报名宝宝") for _ in range(RACERS)]
        return world.inst, families

    return asyncio.run(build())


async def new_event(url: str, inst_id: uuid.UUID, capacity: int, registered: int = 0) -> uuid.UUID:
    event_id = uuid.uuid4()
    start = utcnow() + dt.timedelta(days=2)
    await execute(
        url,
        insert(GuidanceEvent).values(
            id=event_id,
            host_institution_id=inst_id,
            host_name="测试托育中心",
            unit_code=230602,
            kind="parent_class",
            title="并发测试课堂",
            description="测试",
            address="测试地址",
            lat=46.6,
            lng=125.1,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            capacity=capacity,
            registered=registered,
        ),
    )
    return event_id


async def places(url: str, event_id: uuid.UUID) -> tuple[int, int]:
    ((registered, rows),) = await execute(
        url,
        select(
            GuidanceEvent.registered,
            select(func.count())
            .select_from(GuidanceRegistration)
            .where(GuidanceRegistration.event_id == event_id, GuidanceRegistration.status != "cancelled")
            .scalar_subquery(),
        ).where(GuidanceEvent.id == event_id),
    )
    return registered, rows


async def test_forty_families_race_for_the_last_four_places(server, world):
    inst_id, families = world
    async with httpx.AsyncClient(base_url=server.base_url, limits=LIMITS, timeout=30) as http:
        for _ in range(ROUNDS):
            # 20 places, 16 already taken: 4 left.
            event_id = await new_event(server.database_url, inst_id, capacity=20, registered=20 - PLACES)

            async def register(token, child_id, event_id=event_id):
                return await http.post(
                    f"/api/guidance/events/{event_id}/registrations",
                    json={"child_id": str(child_id)},
                    headers={"Authorization": f"Bearer {token}"},
                )

            responses = await asyncio.gather(*(register(t, c) for _, c, t in families))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] * PLACES + [409] * (RACERS - PLACES), [
                r.text for r in responses if r.status_code not in (201, 409)
            ]
            assert {r.json()["code"] for r in responses if r.status_code == 409} == {"event_full"}
            assert await places(server.database_url, event_id) == (20, PLACES)


async def test_one_family_many_requests_holds_one_place(server, world):
    inst_id, families = world
    _, _, token = families[0]
    event_id = await new_event(server.database_url, inst_id, capacity=10)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url, limits=LIMITS, timeout=30) as http:
        # Without a key: one wins, the others are refused (409 already_registered).
        responses = await asyncio.gather(
            *(http.post(f"/api/guidance/events/{event_id}/registrations", json={}, headers=headers) for _ in range(15))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 14, [r.text for r in responses]
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_registered"}
        assert await places(server.database_url, event_id) == (1, 1)

        # With one Idempotency-Key: every retry answers the same 201, one registration.
        _, child2, token2 = families[1]
        keyed = {"Authorization": f"Bearer {token2}", "Idempotency-Key": f"g-{uuid.uuid4()}"}
        body = {"child_id": str(child2)}
        responses = await asyncio.gather(
            *(http.post(f"/api/guidance/events/{event_id}/registrations", json=body, headers=keyed) for _ in range(15))
        )
        assert {r.status_code for r in responses} == {201}
        assert len({r.content for r in responses}) == 1
        assert await places(server.database_url, event_id) == (2, 2)
