"""An erasure racing the same family's booking on another device, on separate connections to a real
database: the booking never survives its erased child without giving its place back."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend.bookings import service as bookings
from backend.bookings.models import Booking, Slot
from backend.bookings.schemas import BookingIn
from backend.core.authz import Grant, Principal, Role
from backend.core.db import create_engine
from backend.families.models import Child
from backend.privacy import service
from tests.live import scratch_database
from tests.world import TOMORROW, World


def _parent(account_id: uuid.UUID) -> Principal:
    return Principal(account_id=account_id, session_id=uuid.uuid4(), grants=(Grant(Role.PARENT),))


async def _until(condition, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)  # polling a condition with a deadline, not a timing assumption


async def _race(url: str, settings, booking_first: bool) -> None:
    world = await World(url).build()
    parent, child, _ = await world.family("赛跑宝宝")
    engine = create_engine(settings, url)
    maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    body = BookingIn(child_id=child, institution_id=world.inst, mode="hourly", day=TOMORROW, start="09:00", end="10:00")

    async def blocked() -> bool:
        async with engine.connect() as probe:
            return bool(
                await probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                )
            )

    try:
        if booking_first:
            # The booking is inserted (holding its key-share lock on the child) but not yet committed
            # when the erasure starts: the erasure must wait for it, then see and cancel it.
            async with maker() as b:
                await bookings.book(b, settings, _parent(parent), body)

                async def erase() -> int:
                    async with maker() as a:
                        out = await service.erase(a, settings, _parent(parent))
                        await a.commit()
                        return out.bookings_cancelled

                task = asyncio.create_task(erase())
                await _until(blocked, "the erasure to wait for the booking's lock")
                await b.commit()
            assert await task == 1
        else:
            # The erasure holds its locks (not committed) when the booking arrives: the booking waits,
            # then fails on the deleted child and writes nothing.
            async with maker() as a:
                await service.erase(a, settings, _parent(parent))

                async def book() -> None:
                    async with maker() as b:
                        await bookings.book(b, settings, _parent(parent), body)
                        await b.commit()

                task = asyncio.create_task(book())
                await _until(blocked, "the booking to wait for the erasure's lock")
                await a.commit()
            with pytest.raises(IntegrityError):
                await task
        async with maker() as check:
            assert await check.scalar(select(func.count()).select_from(Child).where(Child.id == child)) == 0
            assert await check.scalar(select(func.count()).select_from(Booking).where(Booking.child_id == child)) == 0
            assert await check.scalar(select(func.sum(Slot.booked)).where(Slot.institution_id == world.inst)) == 0
    finally:
        await engine.dispose()


@pytest.mark.parametrize("booking_first", [True, False], ids=["booking-then-erasure", "erasure-then-booking"])
def test_a_booking_racing_an_erasure_gives_its_place_back_or_never_happens(server_url, settings, booking_first):
    with scratch_database(server_url, demo=False) as url:
        asyncio.run(_race(url, settings, booking_first))
