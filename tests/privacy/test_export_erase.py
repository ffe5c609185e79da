"""A family's data rights: export everything (children's data in clear), erase it atomically."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select, text

from backend.accounts.models import Account, AuthSession
from backend.bookings.models import Booking, Slot
from backend.complaints.models import Complaint
from backend.core.audit import AuditEntry
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.core.security import hash_password
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.institutions.models import CareClass
from backend.privacy import service
from backend.realtime.models import NotificationPreference, PushSubscription
from tests.complaints.test_filing import file
from tests.factories import EVERY_DAY, next_open_day

PASSWORD = "Family-data-2026"
TOMORROW = next_open_day().isoformat()


def fresh(stmt):
    return stmt.execution_options(populate_existing=True)


class Family:
    """A parent (with a password) whose only child is enrolled in a one-place class with a waitlist
    behind it, holds a booking tomorrow and shares a second child with another guardian; they also
    filed a complaint and have a push device and a notification preference."""

    async def build(self, client, factory, db):
        self.inst = await factory.institution(
            classes=[("toddler", 1, 1, 0)],
            opening_hours=EVERY_DAY,
            modes={"full_day": (250000, "month"), "hourly": (4000, "hour")},
        )
        self.class_id = await db.scalar(select(CareClass.id).where(CareClass.institution_id == self.inst.id))
        _, self.staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=self.inst.id)
        r = await client.put(
            f"/api/institutions/{self.inst.id}/slots",
            headers=self.staff,
            json={
                "day": TOMORROW,
                "band": "toddler",
                "granularity_minutes": 60,
                "opens": "08:00",
                "closes": "10:00",
                "capacity": 2,
            },
        )
        assert r.status_code == 200, r.text

        self.parent, self.headers = await factory.signed_in(Role.PARENT, password_hash=hash_password(PASSWORD))
        self.child = await factory.placed_child(self.parent, self.inst.id, self.class_id)
        self.application_id = await db.scalar(select(Application.id).where(Application.child_id == self.child.id))
        r = await client.post(
            "/api/bookings",
            headers=self.headers,
            json={
                "child_id": str(self.child.id),
                "institution_id": str(self.inst.id),
                "mode": "hourly",
                "day": TOMORROW,
                "start": "08:00",
                "end": "09:00",
            },
        )
        assert r.status_code == 201, r.text
        self.booking_id = uuid.UUID(r.json()["id"])

        self.other, self.other_headers = await factory.signed_in(Role.PARENT)
        self.shared = await factory.child(self.other, name="共同宝宝", age_months=20)
        db.add(Guardianship(child_id=self.shared.id, account_id=self.parent.id, relation="father"))
        await db.commit()

        # Another family waits for the one place.
        self.next_parent, next_headers = await factory.signed_in(Role.PARENT)
        next_child = await factory.child(self.next_parent, age_months=20)
        r = await client.post(
            "/api/applications",
            headers=next_headers,
            json={
                "child_id": str(next_child.id),
                "institution_id": str(self.inst.id),
                "class_id": str(self.class_id),
                "mode": "full_day",
                "start_date": (local_today() + dt.timedelta(days=30)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        self.waiting_id = uuid.UUID(r.json()["id"])
        r = await client.post(
            f"/api/institutions/{self.inst.id}/applications/{self.waiting_id}/waitlist", headers=self.staff
        )
        assert r.status_code == 200 and r.json()["status"] == "waitlisted", r.text

        r = await file(client, headers=self.headers)
        assert r.status_code == 201, r.text
        self.complaint_number = r.json()["reference"]
        db.add(
            PushSubscription(
                account_id=self.parent.id,
                endpoint=f"https://push.example.com/{uuid.uuid4()}",
                p256dh="BNc" + "x" * 80,
                auth="secret-auth-key",
            )
        )
        db.add(NotificationPreference(account_id=self.parent.id, category="notices", websocket=True, push=False))
        await db.commit()
        return self

    async def status(self, db, model, id_):
        return await db.scalar(fresh(select(model.status).where(model.id == id_)))

    async def slot_booked(self, db):
        return await db.scalar(fresh(select(func.sum(Slot.booked)).where(Slot.institution_id == self.inst.id)))


@pytest.fixture
async def family(client, factory, db):
    return await Family().build(client, factory, db)


async def test_the_export_holds_everything_about_the_family_with_children_in_clear(client, family):
    r = await client.get("/api/me/export", headers=family.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="daqing-my-data-')
    assert r.headers["cache-control"] == "no-store"
    doc = r.json()
    assert doc["format"] == "daqing-family-data/1"
    assert doc["account"]["id"] == str(family.parent.id) and doc["account"]["phone"] == family.parent.phone
    children = {c["id"]: c for c in doc["children"]}
    assert set(children) == {str(family.child.id), str(family.shared.id)}
    assert children[str(family.child.id)]["name"] == family.child.name  # decrypted
    assert children[str(family.shared.id)]["name"] == "共同宝宝"
    assert children[str(family.child.id)]["birth_date"] == family.child.birth_date.isoformat()
    assert children[str(family.shared.id)]["relation"] == "father"
    # The co-guardian appears by account id only.
    assert {(g["child_id"], g["account_id"]) for g in doc["guardianships"]} >= {
        (str(family.shared.id), str(family.other.id))
    }
    assert [a["id"] for a in doc["applications"]] == [str(family.application_id)]
    assert [b["id"] for b in doc["bookings"]] == [str(family.booking_id)]
    assert len(doc["complaints"]) == 1 and doc["complaints"][0]["description"]
    assert doc["notification_preferences"][0]["category"] == "notices"
    assert doc["push_subscriptions"][0]["endpoint"].startswith("https://push.example.com/")
    assert len(doc["sessions"]) == 1 and doc["roles"][0]["role"] == "parent"
    text_ = r.text
    for secret in ("password_hash", "token_hash", "secret-auth-key", "p256dh", "tracking_digest", "internal_note"):
        assert secret not in text_
    # Another family's export holds none of it.
    other = (await client.get("/api/me/export", headers=family.other_headers)).json()
    assert [c["id"] for c in other["children"]] == [str(family.shared.id)]
    assert other["applications"] == [] and other["complaints"] == []


async def test_only_signed_in_parents_export_or_erase(client, factory, family):
    assert (await client.get("/api/me/export")).status_code == 401
    assert (await client.post("/api/me/erase", json={"password": "x"})).status_code == 401
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=family.inst.id)
    assert (await client.get("/api/me/export", headers=staff)).status_code == 403
    assert (await client.post("/api/me/erase", headers=staff, json={"password": "x"})).status_code == 403


async def test_erasure_releases_places_through_the_services_and_removes_the_family(client, db, family):
    before_events = await db.scalar(select(func.max(Event.id)))
    assert await family.slot_booked(db) == 1
    r = await client.post("/api/me/erase", headers=family.headers, json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["children_deleted"] == 1 and out["guardianships_removed"] == 1
    assert out["applications_withdrawn"] == 1 and out["bookings_cancelled"] == 1
    assert out["complaints_detached"] == 1
    assert "dq_session=" in r.headers.get("set-cookie", "")

    # Places are free again: the waitlist's head is offered the place, the slot is free.
    assert await family.status(db, Application, family.waiting_id) == "offered"
    assert await family.slot_booked(db) == 0
    counts = await db.scalar(
        fresh(select(CareClass.enrolled_count + CareClass.offered_count).where(CareClass.id == family.class_id))
    )
    assert counts == 1  # the offer to the next family; the erased child's place is gone
    # ... and the institution was told, through the outbox.
    events = (await db.execute(select(Event.type, Event.subject_id).where(Event.id > (before_events or 0)))).all()
    assert ("application.withdrawn", family.application_id) in events
    assert ("booking.cancelled", family.booking_id) in events
    assert ("application.offered", family.waiting_id) in events

    # The only-guardian child is gone with its rows; the shared child stays with its other guardian.
    assert await db.scalar(select(func.count()).select_from(Child).where(Child.id == family.child.id)) == 0
    assert await db.scalar(select(func.count()).select_from(Booking).where(Booking.id == family.booking_id)) == 0
    assert (
        await db.execute(select(Guardianship.account_id).where(Guardianship.child_id == family.shared.id))
    ).scalars().all() == [family.other.id]
    # The complaint stays for the officers, detached.
    number = int(family.complaint_number.removeprefix("DQ-"))
    complaint = await db.scalar(fresh(select(Complaint).where(Complaint.number == number)))
    assert complaint is not None and complaint.reporter_id is None and complaint.description

    # Devices, preferences and sessions are gone; the account is an empty tombstone.
    for model in (PushSubscription, NotificationPreference, AuthSession):
        assert await db.scalar(select(func.count()).select_from(model).where(model.account_id == family.parent.id)) == 0
    account = await db.scalar(fresh(select(Account).where(Account.id == family.parent.id)))
    assert account.erased_at is not None
    assert (account.phone, account.email, account.display_name, account.password_hash) == (None, None, None, None)
    assert (await client.get("/api/me", headers=family.headers)).status_code == 401
    # The erasure is in the audit log (rows changed, never values); the log itself is untouched.
    [entry] = (await db.execute(select(AuditEntry).where(AuditEntry.account_id == family.parent.id))).scalars().all()
    assert entry.action == "privacy.erase" and entry.change_count > 0
    assert family.child.name not in json.dumps(entry.changes, ensure_ascii=False)


async def test_erasure_is_idempotent(client, db, settings, family):
    r = await client.post("/api/me/erase", headers=family.headers, json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    principal = Principal(account_id=family.parent.id, session_id=uuid.uuid4(), grants=(Grant(Role.PARENT),))
    again = await service.erase(db, settings, principal)
    await db.commit()
    assert (again.children_deleted, again.applications_withdrawn, again.bookings_cancelled) == (0, 0, 0)
    assert await family.status(db, Application, family.waiting_id) == "offered"
    assert await db.scalar(select(func.count()).select_from(Child).where(Child.id == family.shared.id)) == 1


async def test_a_failure_midway_leaves_everything_in_place(client, db, family):
    # The last step (the account's tombstone) fails: every earlier step must be undone with it.
    await db.execute(
        text(
            "CREATE FUNCTION pg_temp.no_tombstones() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'storage failure'; END $$"
        )
    )
    await db.execute(
        text(
            "CREATE TRIGGER no_tombstones BEFORE UPDATE ON accounts FOR EACH ROW"
            " WHEN (NEW.erased_at IS NOT NULL) EXECUTE FUNCTION pg_temp.no_tombstones()"
        )
    )
    await db.commit()
    r = await client.post("/api/me/erase", headers=family.headers, json={"password": PASSWORD})
    assert r.status_code >= 400
    await db.execute(text("DROP TRIGGER no_tombstones ON accounts"))
    await db.commit()

    assert (await client.get("/api/me", headers=family.headers)).status_code == 200
    assert await family.status(db, Application, family.application_id) == "enrolled"
    assert await family.status(db, Application, family.waiting_id) == "waitlisted"
    assert await family.status(db, Booking, family.booking_id) == "booked"
    assert await family.slot_booked(db) == 1
    assert await db.scalar(select(func.count()).select_from(Child).where(Child.id == family.child.id)) == 1
    assert (
        await db.scalar(select(func.count()).select_from(Complaint).where(Complaint.reporter_id == family.parent.id))
        == 1
    )
    assert (
        await db.scalar(
            select(func.count()).select_from(PushSubscription).where(PushSubscription.account_id == family.parent.id)
        )
        == 1
    )
    account = await db.scalar(fresh(select(Account).where(Account.id == family.parent.id)))
    assert account.erased_at is None and account.phone == family.parent.phone
    # And it can then be done.
    assert (await client.post("/api/me/erase", headers=family.headers, json={"password": PASSWORD})).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"password": "wrong-password"}, 403, "confirmation_failed"),
        ({}, 422, "confirmation_required"),
        ({"password": PASSWORD, "code": "123456"}, 422, "confirmation_required"),
        ({"code": "12ab56"}, 400, "validation_error"),
        ({"password": PASSWORD, "extra": 1}, 400, "validation_error"),
    ],
)
async def test_a_wrong_or_missing_confirmation_erases_nothing(client, db, family, body, status, code):
    r = await client.post("/api/me/erase", headers=family.headers, json=body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert (await client.get("/api/me", headers=family.headers)).status_code == 200
    assert await family.status(db, Application, family.application_id) == "enrolled"


async def test_a_wrong_sms_code_erases_nothing_and_a_right_one_erases(client, db, family, app):
    r = await client.post("/api/me/erase", headers=family.headers, json={"code": "000000"})
    assert (r.status_code, r.json()["code"]) == (403, "confirmation_failed")
    sent = []
    sms = app.state["sms"]
    original = sms.send_sign_in_code

    async def capture(phone, code, ttl_seconds):
        sent.append(code)

    sms.send_sign_in_code = capture
    try:
        assert (await client.post("/api/auth/code", json={"phone": family.parent.phone})).status_code in (200, 202)
    finally:
        sms.send_sign_in_code = original
    r = await client.post("/api/me/erase", headers=family.headers, json={"code": sent[-1]})
    assert r.status_code == 200, r.text
    assert await family.status(db, Application, family.waiting_id) == "offered"


async def test_a_booking_under_way_blocks_the_erasure(client, db, family):
    await db.execute(
        text("UPDATE bookings SET starts_at = now() + interval '10 minutes' WHERE id = :id"),
        {"id": family.booking_id},
    )
    await db.commit()
    r = await client.post("/api/me/erase", headers=family.headers, json={"password": PASSWORD})
    assert (r.status_code, r.json()["code"]) == (409, "booking_in_progress"), r.text
    assert await family.status(db, Application, family.application_id) == "enrolled"


async def test_a_parent_who_is_also_staff_is_not_erased_here(client, db, factory, family):
    from backend.accounts.models import RoleGrant

    db.add(RoleGrant(account_id=family.parent.id, role=Role.INSTITUTION_STAFF, institution_id=family.inst.id))
    await db.commit()
    r = await client.post("/api/me/erase", headers=family.headers, json={"password": PASSWORD})
    assert (r.status_code, r.json()["code"]) == (409, "not_a_family_account"), r.text
