"""Hourly and temporary care: publishing slots, booking, cancelling, attendance, and bad input."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, update

from backend.bookings.models import Booking, Slot
from backend.bookings.schemas import BookingDetail, DaySlots
from backend.core.authz import Role
from backend.core.clock import local_today
from tests.factories import EVERY_DAY, next_open_day
from tests.strict import strict

TOMORROW = next_open_day().isoformat()


@pytest.fixture
async def centre(factory, client):
    """An institution open every day 07:00-19:00 offering hourly and temporary care, with toddler slots
    08:00-12:00 (60 min, 3 places) published for tomorrow."""
    inst = await factory.institution(
        opening_hours=EVERY_DAY,
        modes={"hourly": (4000, "hour"), "temporary": (16000, "day")},
    )
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    r = await client.put(
        f"/api/institutions/{inst.id}/slots",
        headers=staff,
        json={
            "day": TOMORROW,
            "band": "toddler",
            "granularity_minutes": 60,
            "opens": "08:00",
            "closes": "12:00",
            "capacity": 3,
        },
    )
    assert r.status_code == 200, r.text
    return inst, staff


async def parent_with_child(factory, age_months=14):
    parent, headers = await factory.signed_in(Role.PARENT)
    return parent, await factory.child(parent, age_months=age_months), headers


def booking(child, inst, start="09:00", end="11:00", mode="hourly", day=TOMORROW):
    return {
        "child_id": str(child.id),
        "institution_id": str(inst.id),
        "mode": mode,
        "day": day,
        "start": start,
        "end": end,
    }


async def slot_use(db, inst_id):
    rows = await db.execute(
        select(Slot.start_min, Slot.booked)
        .where(Slot.institution_id == inst_id)
        .order_by(Slot.start_min)
        .execution_options(populate_existing=True)
    )
    return {s // 60: b for s, b in rows}


async def test_publish_book_cancel(client, factory, centre, db):
    inst, staff = centre
    public = strict(
        (await client.get(f"/api/institutions/{inst.id}/slots", params={"day": TOMORROW})).content, DaySlots
    )
    assert [(s.start, s.end, s.free) for s in public.slots] == [
        ("08:00", "09:00", 3),
        ("09:00", "10:00", 3),
        ("10:00", "11:00", 3),
        ("11:00", "12:00", 3),
    ]
    _, child, headers = await parent_with_child(factory)
    r = await client.post("/api/bookings", headers=headers, json=booking(child, inst))
    assert r.status_code == 201, r.text
    b = strict(r.content, BookingDetail)
    assert (b.status, b.band, b.price_fen, b.start, b.end) == ("booked", "toddler", 8000, "09:00", "11:00")
    assert await slot_use(db, inst.id) == {8: 0, 9: 1, 10: 1, 11: 0}

    mine = (await client.get("/api/bookings", headers=headers)).json()
    assert [m["id"] for m in mine] == [str(b.id)]
    staff_view = (
        await client.get(f"/api/institutions/{inst.id}/bookings", headers=staff, params={"day": TOMORROW})
    ).json()
    assert [s["child_name"] for s in staff_view] == [child.name]

    cancelled = await client.post(f"/api/bookings/{b.id}/cancel", headers=headers, json={"reason": "孩子生病"})
    assert cancelled.status_code == 200
    detail = strict(cancelled.content, BookingDetail)
    assert detail.status == "cancelled" and [h.status for h in detail.history] == ["booked", "cancelled"]
    assert await slot_use(db, inst.id) == {8: 0, 9: 0, 10: 0, 11: 0}
    again = await client.post(f"/api/bookings/{b.id}/cancel", headers=headers, json={"reason": "x"})
    assert again.status_code == 409


async def test_a_full_slot_refuses_and_nothing_is_half_booked(client, factory, centre, db):
    inst, _ = centre
    for _ in range(3):
        _, child, headers = await parent_with_child(factory)
        assert (
            await client.post("/api/bookings", headers=headers, json=booking(child, inst, "10:00", "11:00"))
        ).status_code == 201
    _, child, headers = await parent_with_child(factory)
    # 09:00-10:00 has room, 10:00-11:00 does not: the whole booking is refused, 09:00 untouched.
    r = await client.post("/api/bookings", headers=headers, json=booking(child, inst, "09:00", "11:00"))
    assert r.status_code == 409 and r.json()["code"] == "slot_full"
    assert await slot_use(db, inst.id) == {8: 0, 9: 0, 10: 3, 11: 0}
    count = await db.scalar(select(func.count()).select_from(Booking).where(Booking.institution_id == inst.id))
    assert count == 3


async def test_one_child_cannot_be_in_two_places(client, factory, centre):
    inst, _ = centre
    other = await factory.institution(opening_hours=EVERY_DAY, modes={"hourly": (3000, "hour")})
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=other.id)
    await client.put(
        f"/api/institutions/{other.id}/slots",
        headers=other_staff,
        json={
            "day": TOMORROW,
            "band": "toddler",
            "granularity_minutes": 30,
            "opens": "08:00",
            "closes": "12:00",
            "capacity": 5,
        },
    )
    _, child, headers = await parent_with_child(factory)
    assert (
        await client.post("/api/bookings", headers=headers, json=booking(child, inst, "09:00", "10:00"))
    ).status_code == 201
    overlap = await client.post("/api/bookings", headers=headers, json=booking(child, other, "09:30", "10:30"))
    assert overlap.status_code == 409 and overlap.json()["code"] == "child_double_booked"
    after = await client.post("/api/bookings", headers=headers, json=booking(child, other, "10:00", "10:30"))
    assert after.status_code == 201


async def test_bad_bookings_are_refused_and_write_nothing(client, factory, centre, db):
    inst, _ = centre
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=14)
    baby = await factory.child(parent, age_months=3)
    big = await factory.child(parent, age_months=38)
    stranger = (await parent_with_child(factory))[1]
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    far = (local_today() + dt.timedelta(days=400)).isoformat()
    cases = [
        (booking(child, inst, day=yesterday), 422, "day_out_of_range"),
        (booking(child, inst, day=far), 422, "day_out_of_range"),
        (booking(child, inst, "06:00", "08:00"), 422, "outside_opening_hours"),
        (booking(child, inst, "12:00", "13:00"), 422, "slots_not_published"),
        (booking(child, inst, "09:30", "10:30"), 422, "slots_not_published"),
        (booking(child, inst, "11:00", "09:00"), 422, "time_order"),
        (booking(child, inst, "08:00", "12:00", mode="temporary"), 201, None),  # 4 h temporary: fine
        (booking(baby, inst), 422, "child_too_young"),
        (booking(big, inst), 422, "child_too_old"),
        (booking(stranger, inst), 404, "not_found"),
        ({**booking(child, inst), "institution_id": str(uuid.uuid4())}, 404, "not_found"),
        ({**booking(child, inst), "mode": "full_day"}, 400, "validation_error"),
        ({**booking(child, inst), "start": "9:00"}, 400, "validation_error"),
        ({**booking(child, inst), "day": "2026-13-01"}, 400, "validation_error"),
    ]
    for body, status, code in cases:
        r = await client.post("/api/bookings", headers=headers, json=body)
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["code"] == code
    long_hourly = await client.post("/api/bookings", headers=headers, json=booking(big, inst, "07:00", "12:00"))
    assert long_hourly.status_code == 422
    # Only the one valid booking exists; its slots are the only ones taken.
    assert await slot_use(db, inst.id) == {8: 1, 9: 1, 10: 1, 11: 1}
    half_day = (await client.get("/api/bookings", headers=headers)).json()[0]
    assert half_day["price_fen"] == 8000  # half of the day price


async def test_durations_fit_the_mode(client, factory, db):
    inst = await factory.institution(
        opening_hours=EVERY_DAY, modes={"hourly": (4000, "hour"), "temporary": (9000, "half_day")}
    )
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    await client.put(
        f"/api/institutions/{inst.id}/slots",
        headers=staff,
        json={
            "day": TOMORROW,
            "band": "older_toddler",
            "granularity_minutes": 30,
            "opens": "07:00",
            "closes": "19:00",
            "capacity": 4,
        },
    )
    _, child, headers = await parent_with_child(factory, age_months=30)
    too_long = await client.post("/api/bookings", headers=headers, json=booking(child, inst, "08:00", "12:30"))
    assert too_long.status_code == 422 and too_long.json()["code"] == "duration_out_of_range"
    too_short = await client.post(
        "/api/bookings", headers=headers, json=booking(child, inst, "08:00", "10:00", mode="temporary")
    )
    assert too_short.status_code == 422 and too_short.json()["code"] == "duration_out_of_range"
    day = await client.post(
        "/api/bookings", headers=headers, json=booking(child, inst, "08:00", "17:00", mode="temporary")
    )
    assert day.status_code == 201 and day.json()["price_fen"] == 18000  # two half days


async def test_publishing_rules(client, factory, centre, db):
    inst, staff = centre
    url = f"/api/institutions/{inst.id}/slots"
    body = {
        "day": TOMORROW,
        "band": "toddler",
        "granularity_minutes": 60,
        "opens": "08:00",
        "closes": "12:00",
        "capacity": 3,
    }
    outside = await client.put(url, headers=staff, json={**body, "opens": "18:00", "closes": "20:00"})
    assert outside.status_code == 422 and outside.json()["code"] == "outside_opening_hours"
    unaligned = await client.put(url, headers=staff, json={**body, "opens": "08:30", "closes": "10:00"})
    assert unaligned.status_code == 422 and unaligned.json()["code"] == "slot_bounds_invalid"
    grid = await client.put(
        url, headers=staff, json={**body, "granularity_minutes": 30, "opens": "09:30", "closes": "10:30"}
    )
    assert grid.status_code == 409 and grid.json()["code"] == "slot_grid_conflict"
    past = await client.put(
        url, headers=staff, json={**body, "day": (local_today() - dt.timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 422
    _, child, headers = await parent_with_child(factory)
    await client.post("/api/bookings", headers=headers, json=booking(child, inst, "09:00", "10:00"))
    shrink = await client.put(url, headers=staff, json={**body, "capacity": 0})
    assert shrink.status_code == 409 and shrink.json()["code"] == "capacity_below_booked"
    grow = await client.put(url, headers=staff, json={**body, "capacity": 5})
    assert grow.status_code == 200 and {s["capacity"] for s in grow.json()["slots"]} == {5}
    assert await slot_use(db, inst.id) == {8: 0, 9: 1, 10: 0, 11: 0}
    no_modes = await factory.institution(opening_hours=EVERY_DAY)
    _, no_modes_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=no_modes.id)
    r = await client.put(f"/api/institutions/{no_modes.id}/slots", headers=no_modes_staff, json=body)
    assert r.status_code == 422 and r.json()["code"] == "mode_not_offered"
    _, parent_headers = await factory.signed_in(Role.PARENT)
    assert (await client.put(url, headers=parent_headers, json=body)).status_code == 403
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=no_modes.id)
    assert (await client.put(url, headers=other_staff, json=body)).status_code == 404


async def test_public_holidays_are_closed_unless_the_institution_opens(client, centre):
    inst, staff = centre
    url = f"/api/institutions/{inst.id}/slots"
    body = {"band": "toddler", "granularity_minutes": 60, "opens": "08:00", "closes": "12:00", "capacity": 3}
    # 1 October 2026 (国庆节): refused as a holiday before anything else is looked at …
    r = await client.put(url, headers=staff, json={**body, "day": "2026-10-01"})
    assert r.status_code == 422 and r.json()["code"] == "public_holiday"
    assert "国庆节" in r.json()["detail_zh"]
    # … unless the institution says it opens (then the day's other rules apply: this one is past).
    r = await client.put(url, headers=staff, json={**body, "day": "2026-10-01", "open_on_public_holiday": True})
    assert r.status_code == 422 and r.json()["code"] == "day_out_of_range"
    # A make-up working Saturday (10 October) is no holiday.
    r = await client.put(url, headers=staff, json={**body, "day": "2026-10-10"})
    assert r.json()["code"] == "day_out_of_range"


async def test_cancelling_closes_before_the_start(client, factory, centre, db):
    inst, _ = centre
    _, child, headers = await parent_with_child(factory)
    b = (await client.post("/api/bookings", headers=headers, json=booking(child, inst))).json()
    # Move the booking to start in an hour (arranged in the database; the cut-off is two hours).
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    await db.execute(
        update(Booking).where(Booking.id == b["id"]).values(starts_at=soon, ends_at=soon + dt.timedelta(hours=2))
    )
    await db.commit()
    r = await client.post(f"/api/bookings/{b['id']}/cancel", headers=headers, json={"reason": "临时有事"})
    assert r.status_code == 409 and r.json()["code"] == "too_late_to_cancel"


async def test_attendance_is_marked_by_the_institution_on_the_day(client, factory, centre, db):
    inst, staff = centre
    _, child, headers = await parent_with_child(factory)
    b = (await client.post("/api/bookings", headers=headers, json=booking(child, inst))).json()
    url = f"/api/institutions/{inst.id}/bookings/{b['id']}/attendance"
    early = await client.post(url, headers=staff, json={"status": "attended"})
    assert early.status_code == 409 and early.json()["code"] == "too_early"
    await db.execute(update(Booking).where(Booking.id == b["id"]).values(day=local_today()))
    await db.commit()
    other = await factory.institution()
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=other.id)
    assert (await client.post(url, headers=other_staff, json={"status": "attended"})).status_code == 404
    assert (await client.post(url, headers=headers, json={"status": "attended"})).status_code == 403
    marked = await client.post(url, headers=staff, json={"status": "no_show"})
    assert marked.status_code == 200 and marked.json()["status"] == "no_show"
    assert (await client.get(f"/api/bookings/{b['id']}", headers=headers)).json()["status_zh"] == "未到"


async def test_idempotent_bookings(client, factory, centre, db):
    inst, _ = centre
    _, child, headers = await parent_with_child(factory)
    keyed = {**headers, "Idempotency-Key": "book-once"}
    first = await client.post("/api/bookings", headers=keyed, json=booking(child, inst))
    second = await client.post("/api/bookings", headers=keyed, json=booking(child, inst))
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert await slot_use(db, inst.id) == {8: 0, 9: 1, 10: 1, 11: 0}
    other = await client.post("/api/bookings", headers=keyed, json=booking(child, inst, "08:00", "09:00"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_only_the_childs_age_band_counts(client, factory, centre, db):
    """The booking reads every band's slots in the asked time at once; only the child's band is taken."""
    inst, staff = centre
    r = await client.put(
        f"/api/institutions/{inst.id}/slots",
        headers=staff,
        json={
            "day": TOMORROW,
            "band": "infant",
            "granularity_minutes": 60,
            "opens": "08:00",
            "closes": "13:00",
            "capacity": 1,
        },
    )
    assert r.status_code == 200, r.text
    parent, headers = await factory.signed_in(Role.PARENT)
    toddler = await factory.child(parent, age_months=14)
    infant = await factory.child(parent, age_months=8)
    # 12:00-13:00 is published for infants only
    r = await client.post("/api/bookings", headers=headers, json=booking(toddler, inst, "12:00", "13:00"))
    assert (r.status_code, r.json()["code"]) == (422, "slots_not_published")
    r = await client.post("/api/bookings", headers=headers, json=booking(toddler, inst, "09:00", "10:00"))
    assert (r.status_code, r.json()["band"]) == (201, "toddler")
    r = await client.post("/api/bookings", headers=headers, json=booking(infant, inst, "10:00", "13:00"))
    assert (r.status_code, r.json()["band"]) == (201, "infant")
    rows = await db.execute(
        select(Slot.band, Slot.start_min, Slot.booked)
        .where(Slot.institution_id == inst.id, Slot.booked > 0)
        .execution_options(populate_existing=True)
    )
    assert sorted((b, s // 60, n) for b, s, n in rows) == [
        ("infant", 10, 1),
        ("infant", 11, 1),
        ("infant", 12, 1),
        ("toddler", 9, 1),
    ]
    # the infant slots are now full at 10:00: a second infant is refused there, not given a toddler place
    other = await factory.child(parent, age_months=9)
    r = await client.post("/api/bookings", headers=headers, json=booking(other, inst, "10:00", "11:00"))
    assert (r.status_code, r.json()["code"]) == (409, "slot_full")
