"""Entry health checks (with the report upload), vaccination checks against the national schedule with
catch-up follow-up, and the institution's rule when a place starts without a current entry check."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select, text

from backend.childhealth.models import HealthFollowUp
from backend.childhealth.schedule import DOSES, SCHEDULE, SOURCE, due_by
from backend.childhealth.schemas import EntryCheckOut, HealthRecordsOut, HealthSettingOut, VaccinationCheckOut
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.files.pdf import tiny_pdf
from backend.institutions.models import CareClass
from tests.strict import strict

TODAY = local_today


def test_the_schedule_is_the_national_table_with_its_source():
    assert "2021年版" in SOURCE and len(SCHEDULE) == 18
    assert [(d.code, d.dose) for d in due_by(0)] == [("HepB", 1), ("BCG", 1)]
    assert DOSES[("DTaP", 4)].age_months == 18 and DOSES[("JE-L", 2)].age_months == 24
    assert {d.code for d in due_by(18)} == {"HepB", "BCG", "IPV", "bOPV", "DTaP", "MMR", "JE-L", "MPSV-A", "HepA-L"}


@pytest.fixture
async def place(factory):
    inst = await factory.institution()
    class_id = await factory.db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    parent, parent_headers = await factory.signed_in(Role.PARENT)
    child = await factory.placed_child(parent, inst.id, class_id, status="accepted")
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    return inst, parent, parent_headers, child, staff, admin


def entry_body(**over):
    body = {
        "examined_on": (TODAY() - dt.timedelta(days=10)).isoformat(),
        "hospital": "大庆市妇幼保健院",
        "passed": True,
    }
    body.update(over)
    return body


async def report(client, headers) -> str:
    r = await client.post(
        "/api/uploads/documents",
        params={"purpose": "health_report"},
        files={"file": ("report.pdf", tiny_pdf("Report"), "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_a_guardian_hands_in_the_report_and_staff_read_it(client, db, place):
    _, _, parent_headers, child, staff, _ = place
    url = f"/api/me/children/{child.id}/entry-checks"
    r = await client.post(url, headers=parent_headers, json=entry_body())
    assert r.status_code == 422 and r.json()["code"] == "entry_check_report_required"
    upload = await report(client, parent_headers)
    r = await client.post(url, headers=parent_headers, json=entry_body(report_upload_ids=[upload], items=["血常规"]))
    assert r.status_code == 201, r.text
    out = strict(r.content, EntryCheckOut)
    assert out.source == "guardian" and out.passed and [str(u) for u in out.report_upload_ids] == [upload]
    raw = await db.scalar(text("SELECT record FROM entry_health_checks WHERE id = :i"), {"i": out.id})
    assert "妇幼".encode() not in bytes(raw)
    r = await client.get(f"/api/childhealth/children/{child.id}/health-records", headers=staff)
    assert r.status_code == 200
    records = strict(r.content, HealthRecordsOut)
    assert records.entry_checks[0].hospital == "大庆市妇幼保健院" and records.entry_checks[0].items == ["血常规"]
    # A failed check names its reasons (staff record one too).
    staff_url = f"/api/childhealth/children/{child.id}/entry-checks"
    r = await client.post(staff_url, headers=staff, json=entry_body(passed=False))
    assert r.status_code == 422 and r.json()["code"] == "entry_check_reasons_required"
    r = await client.post(staff_url, headers=staff, json=entry_body(passed=False, reasons=["血红蛋白偏低"]))
    assert r.status_code == 201 and r.json()["source"] == "staff"
    export = (await client.get("/api/me/export", headers=parent_headers)).json()
    # Both in the export (same examination day: their order is not part of the contract).
    exported = export["entry_health_checks"]
    assert len(exported) == 2 and sorted("血红蛋白偏低" in e["record"] for e in exported) == [False, True]


async def test_missing_doses_get_a_deadline_an_open_item_and_a_message(client, db, place):
    _, parent, parent_headers, child, staff, _ = place
    url = f"/api/childhealth/children/{child.id}/vaccination-checks"
    deadline = (TODAY() + dt.timedelta(days=30)).isoformat()
    cases = [
        ({"status": "missing", "missing": [{"vaccine": "MMR", "dose": 1}]}, "catch_up_incomplete"),
        (
            {"status": "missing", "missing": [{"vaccine": "MMR", "dose": 3}], "catch_up_deadline": deadline},
            "dose_unknown",
        ),
        ({"status": "complete", "missing": [{"vaccine": "MMR", "dose": 1}]}, "catch_up_inconsistent"),
        (
            {"status": "missing", "missing": [{"vaccine": "MMR", "dose": 1}], "catch_up_deadline": "2020-01-01"},
            "deadline_in_past",
        ),
    ]
    for body, code in cases:
        r = await client.post(url, headers=staff, json=body)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    body = {"status": "missing", "missing": [{"vaccine": "MMR", "dose": 1}], "catch_up_deadline": deadline}
    r = await client.post(url, headers=staff, json=body)
    assert r.status_code == 201, r.text
    out = strict(r.content, VaccinationCheckOut)
    assert out.missing[0].name_zh == "麻腮风疫苗" and out.schedule_source == SOURCE
    [event] = list(await db.scalars(select(Event).where(Event.type == "vaccination.catch_up")))
    assert event.account_ids == [parent.id] and "MMR" not in json.dumps(event.payload)
    items = (await client.get("/api/childhealth/follow-ups", headers=staff)).json()
    assert [(i["kind"], i["due_on"]) for i in items] == [("vaccination", deadline)]
    mine = strict(
        (await client.get(f"/api/me/children/{child.id}/health-records", headers=parent_headers)).content,
        HealthRecordsOut,
    )
    assert mine.vaccination_checks[0].catch_up_deadline.isoformat() == deadline
    # The certificate complete again: the item closes.
    assert (await client.post(url, headers=staff, json={"status": "complete"})).status_code == 201
    assert (await client.get("/api/childhealth/follow-ups", headers=staff)).json() == []


async def test_the_institution_refuses_or_grants_a_grace_period(client, db, place):
    inst, parent, _, child, staff, admin = place
    settings_url = f"/api/childhealth/institutions/{inst.id}/settings"
    assert (await client.get(settings_url, headers=staff)).json()["entry_check_policy"] == "none"
    assert (await client.put(settings_url, headers=staff, json={"entry_check_policy": "refuse"})).status_code == 403
    r = await client.put(settings_url, headers=admin, json={"entry_check_policy": "refuse", "grace_days": 5})
    assert r.status_code == 422 and r.json()["code"] == "grace_with_refuse"
    r = await client.put(settings_url, headers=admin, json={"entry_check_policy": "refuse"})
    assert r.status_code == 200 and strict(r.content, HealthSettingOut).valid_days == 90

    app_id = await db.scalar(text("SELECT id FROM applications WHERE child_id = :c"), {"c": child.id})
    enrol = f"/api/institutions/{inst.id}/applications/{app_id}/enrol"
    r = await client.post(enrol, headers=staff)
    assert r.status_code == 409 and r.json()["code"] == "entry_check_required"
    # An old check is not current.
    old = entry_body(examined_on=(TODAY() - dt.timedelta(days=120)).isoformat())
    staff_url = f"/api/childhealth/children/{child.id}/entry-checks"
    assert (await client.post(staff_url, headers=staff, json=old)).status_code == 201
    assert (await client.post(enrol, headers=staff)).status_code == 409

    # Grace: care starts, the check is due within the period, the guardians are reminded.
    r = await client.put(settings_url, headers=admin, json={"entry_check_policy": "grace", "grace_days": 14})
    assert r.status_code == 200
    r = await client.post(enrol, headers=staff)
    assert r.status_code == 200, r.text
    item = await db.scalar(select(HealthFollowUp).where(HealthFollowUp.child_id == child.id))
    assert item.kind == "entry_check" and item.due_on == TODAY() + dt.timedelta(days=14) and item.status == "open"
    [event] = list(await db.scalars(select(Event).where(Event.type == "entry_check.reminder")))
    assert event.account_ids == [parent.id]
    # A passed check closes the item.
    assert (await client.post(staff_url, headers=staff, json=entry_body())).status_code == 201
    await db.refresh(item)
    assert item.status == "closed"


async def test_erasure_lets_go_of_the_report_for_the_cleanup_job(client, db, factory):
    from backend.core.security import hash_password
    from backend.files.models import Upload

    parent, headers = await factory.signed_in(Role.PARENT, password_hash=hash_password("pw-erase-1234"))
    child = await factory.child(parent, age_months=20)
    upload = await report(client, headers)
    r = await client.post(
        f"/api/me/children/{child.id}/entry-checks", headers=headers, json=entry_body(report_upload_ids=[upload])
    )
    assert r.status_code == 201, r.text
    assert (await client.post("/api/me/erase", headers=headers, json={"password": "pw-erase-1234"})).status_code == 200
    row = await db.get(Upload, uuid.UUID(upload))
    await db.refresh(row)
    assert row.subject_id is None and row.subject_type is None  # purge_unattached deletes it
