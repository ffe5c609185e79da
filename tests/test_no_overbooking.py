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
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.accounts.models import Account, AuthSession, RoleGrant
from backend.bookings.models import Booking, Slot
from backend.core.clock import local_today
from backend.core.security import new_session_token, token_digest
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.institutions.models import CareClass, Institution, InstitutionMode
from tests.factories import EVERY_DAY, months_ago, random_phone, random_uscc
from tests.live import live_server, scratch_database

ROUNDS = 20
RACERS = 50
PLACES = 5


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path_factory.mktemp("race"), DB_POOL_SIZE="30", DB_MAX_OVERFLOW="30") as srv,
    ):
        yield srv


async def _account(conn, role: str, institution_id=None) -> tuple[uuid.UUID, str]:
    account_id, token = uuid.uuid4(), new_session_token()
    await conn.execute(insert(Account).values(id=account_id, phone=random_phone()))
    await conn.execute(insert(RoleGrant).values(account_id=account_id, role=role, institution_id=institution_id))
    await conn.execute(
        insert(AuthSession).values(
            account_id=account_id,
            token_hash=token_digest(token),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
        )
    )
    return account_id, token


@pytest.fixture(scope="module")
def world(server):
    """An institution, a staff member and 50 families, committed in the server's database."""

    async def build():
        engine = create_async_engine(server.database_url, poolclass=NullPool)
        async with engine.begin() as conn:
            inst_id = uuid.uuid4()
            await conn.execute(
                insert(Institution).values(
                    id=inst_id,
                    name="并发测试托育中心",
                    legal_form="for_profit",
                    registration_no=random_uscc(),
                    unit_code=230602,
                    address="测试",
                    lat=10.0,
                    lng=10.0,
                    phone="0459-1",
                    ownership="private",
                    opening_hours=EVERY_DAY,
                )
            )
            await conn.execute(
                insert(InstitutionMode).values(
                    [
                        {"institution_id": inst_id, "mode": m, "price_fen": 3000, "price_unit": u}
                        for m, u in (("hourly", "hour"), ("full_day", "month"))
                    ]
                )
            )
            _, staff_token = await _account(conn, "institution_staff", inst_id)
            families = []
            for _ in range(RACERS):
                parent_id, token = await _account(conn, "parent")
                child_id = uuid.uuid4()
                await conn.execute(insert(Child).values(id=child_id, name="并发测试宝宝", birth_date=months_ago(14)))
                await conn.execute(
                    insert(Guardianship).values(child_id=child_id, account_id=parent_id, relation="mother")
                )
                families.append((child_id, token))
        await engine.dispose()
        return inst_id, staff_token, families

    return asyncio.run(build())


async def _sql(url, statement, **params):
    """Run one statement in its own committed transaction; rows if it returns any."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(statement, params)
            return result.all() if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_fifty_parents_race_for_the_last_five_slot_places(server, world):
    inst_id, _, families = world
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=httpx.Limits(max_connections=RACERS + 10), timeout=30
    ) as http:
        for round_ in range(ROUNDS):
            day = local_today() + dt.timedelta(days=1 + round_)
            await _sql(
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

            responses = await asyncio.gather(*(book(c, t) for c, t in families))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] * PLACES + [409] * (RACERS - PLACES), [
                r.text for r in responses if r.status_code not in (201, 409)
            ]
            assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_full"}
            ((booked, rows),) = await _sql(
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
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=httpx.Limits(max_connections=RACERS + 10), timeout=30
    ) as http:
        for round_ in range(ROUNDS):
            class_id = uuid.uuid4()
            await _sql(
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
            ((offered_count, rows, taken, capacity),) = await _sql(
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
            await _sql(
                server.database_url,
                text("UPDATE applications SET status = 'withdrawn', offer_expires_at = NULL WHERE class_id = :c"),
                c=class_id,
            )
            await _sql(server.database_url, text("UPDATE classes SET offered_count = 0 WHERE id = :c"), c=class_id)


async def _insert_applications(url, inst_id, class_id, app_ids, families):
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for app_id, (child_id, _) in zip(app_ids, families, strict=True):
                applicant = (
                    await conn.execute(select(Guardianship.account_id).where(Guardianship.child_id == child_id))
                ).scalar_one()
                await conn.execute(
                    insert(Application).values(
                        id=app_id,
                        child_id=child_id,
                        applicant_id=applicant,
                        institution_id=inst_id,
                        class_id=class_id,
                        mode="full_day",
                        start_date=local_today() + dt.timedelta(days=5),
                        status="submitted",
                    )
                )
    finally:
        await engine.dispose()


async def test_concurrent_retries_with_one_idempotency_key_book_once(server, world):
    inst_id, _, families = world
    child_id, token = families[0]
    day = local_today() + dt.timedelta(days=ROUNDS + 2)
    await _sql(
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
    ((booked, rows),) = await _sql(
        server.database_url,
        select(
            Slot.booked, select(func.count()).select_from(Booking).where(Booking.day == day).scalar_subquery()
        ).where(Slot.day == day),
    )
    assert booked == rows == 1
