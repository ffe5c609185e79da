"""No overbooking, ever: many concurrent requests on separate connections against a real server.

Each round, 50 parents race for the last 5 places (an hourly slot; a class's offers). Exactly 5 win,
the rest get 409, and the counters equal the rows. Also: concurrent retries with one
Idempotency-Key create one booking.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import func, insert, select, text

from backend.bookings.models import Booking, Slot
from backend.core.clock import local_today
from backend.enrolment.models import Application
from backend.institutions.models import CareClass
from tests.live import live_server, scratch_database
from tests.world import World, execute

ROUNDS = 20
# Idle pooled connections are dropped by the client (after 1 s) well before uvicorn's 5 s keep-alive
# timeout closes them: otherwise a round that starts just as the server closes an idle connection
# sends on a dead socket (httpx.ReadError; seen when the machine was busy between rounds).
RACE_LIMITS = httpx.Limits(max_connections=60, keepalive_expiry=1.0)
RACERS = 50
PLACES = 5


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path_factory.mktemp("race"), DB_POOL_SIZE="30", DB_MAX_OVERFLOW="30") as srv,
    ):
        yield srv


@pytest.fixture(scope="module")
def world(server):
    """An institution, a staff member and 50 families, committed in the server's database."""

    async def build():
        world = await World(
            server.database_url, modes=(("hourly", "hour"), ("full_day", "month")), slots_tomorrow=False
        ).build()
        families = [await world.family("并发测试宝宝") for _ in range(RACERS)]
        return world.inst, world.staff, families

    return asyncio.run(build())


async def test_fifty_parents_race_for_the_last_five_slot_places(server, world):
    inst_id, _, families = world
    async with httpx.AsyncClient(base_url=server.base_url, limits=RACE_LIMITS, timeout=30) as http:
        for round_ in range(ROUNDS):
            day = local_today() + dt.timedelta(days=1 + round_)
            await execute(
                server.database_url,
                insert(Slot).values(
                    institution_id=inst_id, day=day, band="toddler", start_min=9 * 60, end_min=10 * 60, capacity=PLACES
                ),
            )

            async def book(child_id, token, day=day):
                body = {
                    "child_id": str(child_id),
                    "institution_id": str(inst_id),
                    "mode": "hourly",
                    "day": day.isoformat(),
                    "start": "09:00",
                    "end": "10:00",
                }
                return await http.post("/api/bookings", json=body, headers={"Authorization": f"Bearer {token}"})

            responses = await asyncio.gather(*(book(c, t) for _, c, t in families))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] * PLACES + [409] * (RACERS - PLACES), [
                r.text for r in responses if r.status_code not in (201, 409)
            ]
            assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_full"}
            ((booked, rows),) = await execute(
                server.database_url,
                select(
                    Slot.booked,
                    select(func.count())
                    .select_from(Booking)
                    .where(Booking.day == day, Booking.status == "booked")
                    .scalar_subquery(),
                ).where(Slot.day == day, Slot.institution_id == inst_id),
            )
            assert booked == rows == PLACES


async def test_fifty_offers_race_for_the_last_five_class_places(server, world):
    inst_id, staff_token, families = world
    staff = {"Authorization": f"Bearer {staff_token}"}
    async with httpx.AsyncClient(base_url=server.base_url, limits=RACE_LIMITS, timeout=30) as http:
        for round_ in range(ROUNDS):
            class_id = uuid.uuid4()
            await execute(
                server.database_url,
                insert(CareClass).values(
                    id=class_id,
                    institution_id=inst_id,
                    name=f"并发班{round_}",
                    class_type="toddler",
                    capacity=15,
                    carers=3,
                    offline_count=15 - PLACES,
                ),
            )
            app_ids = [uuid.uuid4() for _ in families]
            await _insert_applications(server.database_url, inst_id, class_id, app_ids, families)

            responses = await asyncio.gather(
                *(http.post(f"/api/institutions/{inst_id}/applications/{a}/offer", headers=staff) for a in app_ids)
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] * PLACES + [409] * (RACERS - PLACES), [
                r.text for r in responses if r.status_code not in (200, 409)
            ]
            ((offered_count, rows, taken, capacity),) = await execute(
                server.database_url,
                select(
                    CareClass.offered_count,
                    select(func.count())
                    .select_from(Application)
                    .where(Application.class_id == class_id, Application.status == "offered")
                    .scalar_subquery(),
                    CareClass.offline_count + CareClass.offered_count + CareClass.enrolled_count,
                    CareClass.capacity,
                ).where(CareClass.id == class_id),
            )
            assert offered_count == rows == PLACES and taken == capacity
            # Withdraw the winners so the children are free for the next round.
            await execute(
                server.database_url,
                text(
                    "UPDATE applications SET status = 'withdrawn', offer_expires_at = NULL WHERE class_id = :c"
                ).bindparams(c=class_id),
            )
            await execute(
                server.database_url, text("UPDATE classes SET offered_count = 0 WHERE id = :c").bindparams(c=class_id)
            )


async def _insert_applications(url, inst_id, class_id, app_ids, families):
    await execute(
        url,
        insert(Application).values(
            [
                {
                    "id": app_id,
                    "child_id": child_id,
                    "applicant_id": parent_id,
                    "institution_id": inst_id,
                    "class_id": class_id,
                    "mode": "full_day",
                    "start_date": local_today() + dt.timedelta(days=5),
                    "status": "submitted",
                }
                for app_id, (parent_id, child_id, _) in zip(app_ids, families, strict=True)
            ]
        ),
    )


async def test_concurrent_retries_with_one_idempotency_key_book_once(server, world):
    inst_id, _, families = world
    _, child_id, token = families[0]
    day = local_today() + dt.timedelta(days=ROUNDS + 2)
    await execute(
        server.database_url,
        insert(Slot).values(
            institution_id=inst_id, day=day, band="toddler", start_min=9 * 60, end_min=10 * 60, capacity=10
        ),
    )
    body = {
        "child_id": str(child_id),
        "institution_id": str(inst_id),
        "mode": "hourly",
        "day": day.isoformat(),
        "start": "09:00",
        "end": "10:00",
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"retry-{uuid.uuid4()}"}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        responses = await asyncio.gather(*(http.post("/api/bookings", json=body, headers=headers) for _ in range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    ((booked, rows),) = await execute(
        server.database_url,
        select(
            Slot.booked, select(func.count()).select_from(Booking).where(Booking.day == day).scalar_subquery()
        ).where(Slot.day == day),
    )
    assert booked == rows == 1
