"""The booking gate: an institution that is not filed takes no bookings and no applications, unless
UNFILED_CAN_TAKE_BOOKINGS allows it; approving the filing opens it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from backend.core.authz import Role
from backend.core.clock import local_today
from backend.institutions.models import Institution
from tests.factories import EVERY_DAY, next_open_day

TOMORROW = next_open_day().isoformat()
SOON = (local_today() + dt.timedelta(days=3)).isoformat()


@pytest.fixture
async def centre(factory, client):
    """A filed institution with toddler slots tomorrow and a toddler class, and a parent with a child."""
    inst = await factory.institution(
        opening_hours=EVERY_DAY,
        classes=[("toddler", 10, 2, 0)],
        modes={"hourly": (4000, "hour"), "full_day": (200000, "month")},
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
            "capacity": 5,
        },
    )
    assert r.status_code == 200, r.text
    return inst


async def set_status(db, inst, status: str) -> None:
    await db.execute(update(Institution).where(Institution.id == inst.id).values(filing_status=status))
    await db.commit()


async def book(client, factory, inst, start: str = "09:00"):
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=14)
    booking = {
        "child_id": str(child.id),
        "institution_id": str(inst.id),
        "mode": "hourly",
        "day": TOMORROW,
        "start": start,
        "end": "10:00" if start == "09:00" else "11:00",
    }
    application = {"child_id": str(child.id), "institution_id": str(inst.id), "mode": "full_day", "start_date": SOON}
    return (
        await client.post("/api/bookings", headers=headers, json=booking),
        await client.post("/api/applications", headers=headers, json=application),
    )


@pytest.mark.parametrize("status", ["unfiled", "submitted", "returned"])
async def test_an_institution_not_filed_takes_no_bookings_or_applications(client, factory, db, centre, status):
    await set_status(db, centre, status)
    booking, application = await book(client, factory, centre)
    for r in (booking, application):
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "institution_not_filed" and "备案" in r.json()["detail_zh"]
    assert (await client.get(f"/api/institutions/{centre.id}")).json()["takes_families"] is False


async def test_a_filed_institution_takes_both(client, factory, centre):
    assert (await client.get(f"/api/institutions/{centre.id}")).json()["takes_families"] is True
    booking, application = await book(client, factory, centre)
    assert booking.status_code == 201, booking.text
    assert application.status_code == 201, application.text


async def test_the_city_setting_lets_unfiled_institutions_take_both(client, factory, db, centre, app_settings):
    await set_status(db, centre, "unfiled")
    app_settings(unfiled_can_take_bookings=True)
    assert (await client.get(f"/api/institutions/{centre.id}")).json()["takes_families"] is True
    booking, application = await book(client, factory, centre)
    assert booking.status_code == 201, booking.text
    assert application.status_code == 201, application.text


async def test_approving_the_filing_opens_the_institution(client, factory, db, centre, storage):
    from tests.filing.test_filing import REQUIRED, doc

    await set_status(db, centre, "unfiled")
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=centre.id)
    _, officer = await factory.signed_in(Role.OFFICER, department="health", unit=centre.unit_code)
    documents = {kind: [await doc(client, admin)] for kind in REQUIRED}
    url = f"/api/institutions/{centre.id}/filing"
    assert (await client.put(url, headers=admin, json={"documents": documents})).status_code == 200
    filing_id = (await client.post(f"{url}/submit", headers=admin)).json()["id"]
    assert (await book(client, factory, centre))[0].status_code == 409
    assert (await client.post(f"/api/filings/{filing_id}/approve", headers=officer, json={})).status_code == 200
    booking, application = await book(client, factory, centre, start="10:00")
    assert (booking.status_code, application.status_code) == (201, 201), (booking.text, application.text)
