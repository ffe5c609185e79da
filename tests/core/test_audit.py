"""Every officer / city-admin change writes one audit entry in the same transaction; nothing else does."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from backend.core.audit import AuditEntry
from backend.core.authz import Role
from backend.core.clock import utcnow
from backend.institutions.models import CareClass
from tests.factories import EVERY_DAY, next_open_day, random_uscc


def _institution_body(unit_code: int = 230603) -> dict[str, object]:
    return {
        "name": "审计测试托育中心",
        "legal_form": "social_organisation",
        "registration_no": random_uscc(unit_code),
        "unit_code": unit_code,
        "address": "大庆市龙凤区测试街3号",
        "lat": 46.56,
        "lng": 125.14,
        "phone": "0459-5550001",
        "ownership": "private",
    }


async def _entries(db, account_id):
    return (await db.execute(select(AuditEntry).where(AuditEntry.account_id == account_id))).scalars().all()


async def test_a_city_admin_change_is_audited_with_action_path_and_rows(client, factory, db):
    admin, headers = await factory.signed_in(Role.CITY_ADMIN)
    r = await client.post("/api/institutions", headers=headers, json=_institution_body())
    assert r.status_code == 201, r.text
    [entry] = await _entries(db, admin.id)
    assert entry.action == "institutions.create"
    assert entry.method == "POST" and entry.path == "/api/institutions"
    assert {"table": "institutions", "op": "insert", "id": r.json()["id"]} in entry.changes
    assert entry.change_count >= 1
    assert entry.grants == [{"role": "city_admin", "department": None, "unit": None}]


async def test_a_refused_or_read_only_request_leaves_no_entry(client, factory, db):
    admin, headers = await factory.signed_in(Role.CITY_ADMIN)
    body = _institution_body()
    body["lat"] = 120  # out of range: 4xx, nothing written
    r = await client.post("/api/institutions", headers=headers, json=body)
    assert 400 <= r.status_code < 500
    assert (await client.get("/api/institutions", headers=headers)).status_code == 200
    assert await _entries(db, admin.id) == []


async def test_parents_and_staff_are_not_audited_here(client, factory, db):
    before = await db.scalar(select(func.count()).select_from(AuditEntry))
    _, headers = await factory.signed_in(Role.PARENT)
    r = await client.post(
        "/api/me/children",
        headers=headers,
        json={
            "name": "小审",
            "birth_date": "2025-06-01",
            "relation": "mother",
            "consent": {"policy_version": "2026-12", "accepted": True},
        },
    )
    assert r.status_code == 201, r.text
    assert await db.scalar(select(func.count()).select_from(AuditEntry)) == before


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
async def test_the_log_is_append_only(client, factory, db, statement):
    _, headers = await factory.signed_in(Role.CITY_ADMIN)
    assert (await client.post("/api/institutions", headers=headers, json=_institution_body())).status_code == 201
    nested = await db.begin_nested()
    with pytest.raises(DBAPIError, match=r"append-only|permission denied"):
        await db.execute(text(statement))
    await nested.rollback()


# ------------------------------------------------------------------------------- reads of children's data


async def _reads(db, account_id):
    return (
        (
            await db.execute(
                select(AuditEntry)
                .where(AuditEntry.account_id == account_id, AuditEntry.change_count == 0)
                .order_by(AuditEntry.id)
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )


async def _desk(factory):
    """An institution with two enrolled children (of two families) and one of its staff."""
    inst = await factory.institution(classes=[("toddler", 15, 3, 0)])
    class_id = await factory.db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    kids = []
    for _ in range(2):
        parent, headers = await factory.signed_in(Role.PARENT)
        kids.append((await factory.placed_child(parent, inst.id, class_id), headers))
    staff, staff_headers = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    return inst, class_id, kids, staff, staff_headers


async def test_a_staff_read_of_the_application_queue_writes_one_entry_with_the_child_ids(client, factory, db):
    inst, _, kids, staff, headers = await _desk(factory)
    r = await client.get(f"/api/institutions/{inst.id}/applications", headers=headers)
    assert r.status_code == 200, r.text
    assert {a["child_id"] for a in r.json()} == {str(k.id) for k, _ in kids}
    [entry] = await _reads(db, staff.id)
    assert entry.action == "enrolment.queue" and entry.method == "GET"
    assert entry.path == f"/api/institutions/{inst.id}/applications"
    assert sorted(entry.child_ids) == sorted(k.id for k, _ in kids)
    assert entry.changes == [] and entry.change_count == 0
    assert entry.grants == [
        {"role": "institution_staff", "department": None, "unit": None, "institution": str(inst.id)}
    ]
    # Ids only: neither a name nor a birth date appears anywhere in the entry.
    dumped = repr((entry.path, entry.changes, entry.note, entry.grants))
    assert all(k.name not in dumped for k, _ in kids)
    # Every read is recorded again; a read of no child (an empty filter) records nothing.
    assert (await client.get(f"/api/institutions/{inst.id}/applications", headers=headers)).status_code == 200
    r = await client.get(f"/api/institutions/{inst.id}/applications", headers=headers, params={"status": "offered"})
    assert r.status_code == 200 and r.json() == []
    assert len(await _reads(db, staff.id)) == 2


async def test_a_staff_decision_answered_with_the_application_is_recorded_as_a_read(client, factory, db):
    inst, class_id, _, staff, headers = await _desk(factory)
    parent, parent_headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=20)
    applied = await client.post(
        "/api/applications",
        headers=parent_headers,
        json={
            "child_id": str(child.id),
            "institution_id": str(inst.id),
            "class_id": str(class_id),
            "mode": "full_day",
            "start_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert applied.status_code == 201, applied.text
    assert await _reads(db, parent.id) == []  # the parent reading their own child: not recorded
    app_id = applied.json()["id"]
    assert (await client.get(f"/api/applications/{app_id}", headers=parent_headers)).status_code == 200
    assert (await client.get("/api/applications", headers=parent_headers)).status_code == 200
    assert await _reads(db, parent.id) == []

    r = await client.post(f"/api/institutions/{inst.id}/applications/{app_id}/offer", headers=headers)
    assert r.status_code == 200, r.text
    [entry] = await _reads(db, staff.id)
    assert entry.action == "enrolment.offer" and entry.method == "POST" and entry.child_ids == [child.id]


async def test_staff_reads_of_the_booking_desk_are_recorded(client, factory, db):
    inst = await factory.institution(opening_hours=EVERY_DAY, modes={"hourly": (4000, "hour")})
    staff, staff_headers = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    day = next_open_day().isoformat()
    r = await client.put(
        f"/api/institutions/{inst.id}/slots",
        headers=staff_headers,
        json={
            "day": day,
            "band": "toddler",
            "granularity_minutes": 60,
            "opens": "08:00",
            "closes": "10:00",
            "capacity": 3,
        },
    )
    assert r.status_code == 200, r.text
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=14)
    body = {"child_id": str(child.id), "institution_id": str(inst.id), "mode": "hourly", "day": day}
    booked = await client.post("/api/bookings", headers=headers, json=body | {"start": "08:00", "end": "09:00"})
    assert booked.status_code == 201, booked.text
    assert await _reads(db, parent.id) == []

    listed = await client.get(f"/api/institutions/{inst.id}/bookings", headers=staff_headers, params={"day": day})
    assert listed.status_code == 200 and [b["child_id"] for b in listed.json()] == [str(child.id)]
    [entry] = await _reads(db, staff.id)
    assert entry.action == "bookings.list_institution" and entry.child_ids == [child.id]


async def test_a_hosts_read_of_a_guidance_registration_list_is_recorded(client, factory, db):
    inst = await factory.institution()
    staff, staff_headers = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    start = utcnow() + dt.timedelta(days=2)
    r = await client.post(
        "/api/guidance/events",
        headers=staff_headers,
        json={
            "kind": "parent_class",
            "title": "辅食添加家长课堂",
            "description": "讲解辅食添加要点。",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "capacity": 5,
        },
    )
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    assert await _reads(db, staff.id) == []  # a new event has no registrations yet
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=14)
    reg = await client.post(
        f"/api/guidance/events/{event_id}/registrations", headers=headers, json={"child_id": str(child.id)}
    )
    assert reg.status_code == 201, reg.text
    assert (await client.get(f"/api/guidance/hosted/{event_id}", headers=staff_headers)).status_code == 200
    [entry] = await _reads(db, staff.id)
    assert entry.action == "guidance.hosted_read" and entry.child_ids == [child.id]
    assert await _reads(db, parent.id) == []


async def test_the_city_admin_sees_read_entries_and_can_ask_who_read_a_child(client, factory, db):
    inst, _, kids, staff, headers = await _desk(factory)
    assert (await client.get(f"/api/institutions/{inst.id}/applications", headers=headers)).status_code == 200
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    child = kids[0][0]
    r = await client.get("/api/audit", headers=admin, params={"child_id": str(child.id)})
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["account_id"] == str(staff.id) and str(child.id) in item["child_ids"]
    # The admin's own read of the log carries no child data and is not an entry.
    assert [e.action for e in await _reads(db, staff.id)] == ["enrolment.queue"]


async def test_if_the_entry_cannot_be_written_the_child_data_is_not_sent(client, factory, db):
    inst, _, kids, staff, headers = await _desk(factory)
    await db.execute(
        text(
            "CREATE FUNCTION pg_temp.refuse_audit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'audit storage is down'; END $$"
        )
    )
    await db.execute(
        text(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_audit()"
        )
    )
    await db.commit()
    r = await client.get(f"/api/institutions/{inst.id}/applications", headers=headers)
    assert r.status_code == 503
    assert r.json()["code"] == "audit_unavailable"
    assert all(k.name not in r.text and str(k.id) not in r.text for k, _ in kids)
    await db.execute(text("DROP TRIGGER refuse_audit ON audit_log"))
    await db.commit()
    assert await _reads(db, staff.id) == []
    r = await client.get(f"/api/institutions/{inst.id}/applications", headers=headers)
    assert r.status_code == 200 and len(await _reads(db, staff.id)) == 1


async def test_the_owner_role_has_no_update_delete_or_truncate_privilege(db):
    """Migration 0015 revokes them from the table's owner (the app's role): as a non-superuser owner,
    an UPDATE fails on privileges before the trigger is even reached."""
    privileges = set(
        (
            await db.execute(
                text(
                    "SELECT a.privilege_type FROM pg_class c, aclexplode(c.relacl) a"
                    " WHERE c.oid = 'audit_log'::regclass AND a.grantee = c.relowner"
                )
            )
        ).scalars()
    )
    assert {"INSERT", "SELECT"} <= privileges
    assert not privileges & {"UPDATE", "DELETE", "TRUNCATE"}
    role = f"dq_audit_owner_{uuid.uuid4().hex[:8]}"
    nested = await db.begin_nested()
    await db.execute(text(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER"))
    await db.execute(text(f"ALTER TABLE audit_log OWNER TO {role}"))  # the owner's ACL moves with it
    await db.execute(text(f"SET LOCAL ROLE {role}"))
    assert await db.scalar(text("SELECT count(*) >= 0 FROM audit_log"))
    inner = await db.begin_nested()
    with pytest.raises(DBAPIError, match="permission denied"):
        await db.execute(text("UPDATE audit_log SET action = 'x'"))
    await inner.rollback()
    await nested.rollback()
