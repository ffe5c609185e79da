"""The institution cancels a booking (POST /api/institutions/{id}/bookings/{booking_id}/cancel), against
a real server: racing the family's own cancellation, exactly one wins; the places come back once; the
event says cancelled_by = institution and is critical (SMS fallback); a reason is required."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import select

from backend.bookings.models import Slot
from backend.core.outbox import Event
from backend.notify.urgency import is_critical
from tests.live import live_server, scratch_database
from tests.realtime.test_live_updates import auth, book
from tests.world import World, execute

ROUNDS = 6


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path_factory.mktemp("inst-cancel"), NOTIFY_WORKER="false") as srv,
    ):
        yield srv


async def booked(url: str, inst: uuid.UUID, hour: int) -> int:
    ((n,),) = await execute(url, select(Slot.booked).where(Slot.institution_id == inst, Slot.start_min == hour * 60))
    return int(n)


async def cancel_events(url: str, booking_id: str) -> list:
    return await execute(
        url,
        select(Event.type, Event.payload, Event.urgency, Event.account_ids).where(
            Event.subject_id == uuid.UUID(booking_id), Event.type == "booking.cancelled"
        ),
    )


async def test_staff_and_family_race_to_cancel_and_one_wins(server):
    url = server.database_url
    world = await World(url).build()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        for round_ in range(ROUNDS):
            _, child, parent = await world.family()
            hour = 8 + round_
            b = await book(server, world, child, parent, hour)
            assert await booked(url, world.inst, hour) == 1
            family, staff = await asyncio.gather(
                http.post(f"/api/bookings/{b['id']}/cancel", headers=auth(parent), json={"reason": "孩子生病"}),
                http.post(
                    f"/api/institutions/{world.inst}/bookings/{b['id']}/cancel",
                    headers=auth(world.staff),
                    json={"reason": "园所临时停水"},
                ),
            )
            assert sorted([family.status_code, staff.status_code]) == [200, 409], (family.text, staff.text)
            loser = family if family.status_code == 409 else staff
            assert loser.json()["code"] == "invalid_transition"
            assert await booked(url, world.inst, hour) == 0  # the places came back exactly once
            (event,) = await cancel_events(url, b["id"])
            winner = "institution" if staff.status_code == 200 else "family"
            assert event.payload["cancelled_by"] == winner
            assert is_critical(event) is (winner == "institution")
            if winner == "institution":
                assert staff.json()["cancel_reason"] == "园所临时停水"
                assert "园所临时停水" not in str(event.payload)  # the reason is on the booking, not in the event


async def test_the_institution_cancels_with_a_reason_and_the_event_is_critical(server):
    url = server.database_url
    world = await World(url).build()
    _, child, parent = await world.family()
    b = await book(server, world, child, parent, 15)
    path = f"/api/institutions/{world.inst}/bookings/{b['id']}/cancel"
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        for bad in ({}, {"reason": ""}, {"reason": 5}, {"reason": "x" * 2000}):
            r = await http.post(path, headers=auth(world.staff), json=bad)
            assert r.status_code in (400, 422), (bad, r.text)
        assert await booked(url, world.inst, 15) == 1 and await cancel_events(url, b["id"]) == []
        other = await World(url, slots_tomorrow=False).build()
        r = await http.post(path, headers=auth(other.staff), json={"reason": "停电"})
        assert r.status_code == 404
        r = await http.post(path, headers=auth(parent), json={"reason": "停电"})
        assert r.status_code == 403
        r = await http.post(path, headers=auth(world.staff), json={"reason": "园所停电，暂停接待"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["cancel_reason"]) == ("cancelled", "园所停电，暂停接待")
        mine = (await http.get(f"/api/bookings/{b['id']}", headers=auth(parent))).json()
        assert mine["status"] == "cancelled"
        again = await http.post(path, headers=auth(world.staff), json={"reason": "停电"})
        assert again.status_code == 409
    assert await booked(url, world.inst, 15) == 0
    (event,) = await cancel_events(url, b["id"])
    assert event.payload["cancelled_by"] == "institution" and event.account_ids
    assert is_critical(event)
