"""Daily health checks (晨午检): the class screen, send-home notifications on the urgent channel,
cluster alerts to the institution and the county health officers, the officers' reason-based access."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select, text

from backend.childhealth.models import DailyHealthCheck, HealthClusterAlert
from backend.childhealth.schemas import ClassChecksOut, ClusterAccessOut, DailyCheckOut
from backend.core.audit import AuditEntry
from backend.core.authz import Grant, Principal, Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.institutions.models import CareClass
from backend.notify.urgency import is_critical, sms_title
from backend.realtime.events import audience_allows, message_for
from tests.strict import strict


@pytest.fixture
async def kindergarten(factory):
    inst = await factory.institution(unit_code=230602)
    class_id = await factory.db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    families = []
    for _ in range(4):
        parent, headers = await factory.signed_in(Role.PARENT)
        child = await factory.placed_child(parent, inst.id, class_id)
        families.append((parent, headers, child))
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    other = await factory.institution(unit_code=230621)
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=other.id)
    return inst, class_id, families, staff, other_staff


def checks_url(class_id):
    return f"/api/childhealth/classes/{class_id}/checks"


async def test_the_class_screen_and_a_well_check(client, kindergarten):
    _, class_id, families, staff, other_staff = kindergarten
    child = families[0][2]
    r = await client.post(checks_url(class_id), headers=staff, json={"child_id": str(child.id), "well": True})
    assert r.status_code == 201, r.text
    check = strict(r.content, DailyCheckOut)
    assert check.well and check.outcome == "stay" and check.cluster_alert_ids == []
    r = await client.get(checks_url(class_id), headers=staff)
    assert r.status_code == 200
    screen = strict(r.content, ClassChecksOut)
    assert len(screen.children) == 4 and screen.session == "morning"
    checked = [c for c in screen.children if c.check is not None]
    assert [c.child_id for c in checked] == [child.id]
    # Another institution's staff: 404 for the class.
    assert (await client.get(checks_url(class_id), headers=other_staff)).status_code == 404
    r = await client.post(checks_url(class_id), headers=other_staff, json={"child_id": str(child.id), "well": True})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"well": True, "symptoms": ["cough"]}, "check_well_inconsistent"),
        ({"well": True, "outcome": "send_home"}, "check_well_inconsistent"),
        ({"well": False}, "check_symptom_required"),
        ({"well": False, "symptoms": ["fever"]}, "check_temperature_required"),
        ({"well": False, "symptoms": ["rash", "rash"]}, "check_symptom_repeated"),
    ],
)
async def test_bad_checks_are_refused_and_write_nothing(client, db, kindergarten, body, code):
    _, class_id, families, staff, _ = kindergarten
    r = await client.post(checks_url(class_id), headers=staff, json={"child_id": str(families[0][2].id), **body})
    assert r.status_code == 422 and r.json()["code"] == code
    assert await db.scalar(select(DailyHealthCheck.id)) is None


async def test_sending_a_child_home_tells_the_guardians_at_once_on_the_urgent_channel(client, db, kindergarten):
    _, class_id, families, staff, _ = kindergarten
    parent, _, child = families[0]
    body = {
        "child_id": str(child.id),
        "well": False,
        "symptoms": ["fever"],
        "temperature_c": 38.6,
        "outcome": "send_home",
    }
    r = await client.post(checks_url(class_id), headers=staff, json=body)
    assert r.status_code == 201, r.text
    [event] = list(await db.scalars(select(Event).where(Event.type == "health_check.send_home")))
    assert event.account_ids == [parent.id] and event.urgency == "high" and event.institution_id is None
    assert is_critical(event) and sms_title(event) == "孩子健康提醒"
    # No symptom, temperature or name anywhere in what is delivered.
    delivered = json.dumps(event.payload, ensure_ascii=False)
    assert "fever" not in delivered and "38.6" not in delivered and "测试宝宝" not in delivered
    assert message_for(event).url == "/me/children"
    # The findings are ciphertext in the database.
    raw = await db.scalar(text("SELECT findings FROM daily_health_checks"))
    assert b"fever" not in bytes(raw)
    # Recording the same check again does not notify twice.
    assert (await client.post(checks_url(class_id), headers=staff, json=body)).status_code == 201
    assert len(list(await db.scalars(select(Event).where(Event.type == "health_check.send_home")))) == 1


async def test_three_children_with_the_same_symptom_within_three_days_raise_one_cluster_alert(
    client, db, factory, kindergarten
):
    inst, class_id, families, staff, _ = kindergarten
    # Two days ago one child had diarrhoea (written as the service writes it).
    db.add(
        DailyHealthCheck(
            id=uuid.uuid4(),
            child_id=families[0][2].id,
            institution_id=inst.id,
            class_id=class_id,
            check_date=local_today() - dt.timedelta(days=2),
            session="morning",
            well=False,
            outcome="send_home",
            findings=json.dumps({"symptoms": ["diarrhoea"], "temperature_c": None, "note": None}),
        )
    )
    await db.commit()
    ids = []
    for (_, _, child), symptoms in zip(
        families[1:], (["diarrhoea", "cough"], ["diarrhoea"], ["diarrhoea"]), strict=True
    ):
        r = await client.post(
            checks_url(class_id),
            headers=staff,
            json={"child_id": str(child.id), "well": False, "symptoms": symptoms},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["cluster_alert_ids"])
    # The second child today makes three: one alert, and the fourth child raises no second one.
    assert ids[0] == [] and len(ids[1]) == 1 and ids[2] == []
    [alert] = list(await db.scalars(select(HealthClusterAlert)))
    assert alert.symptom == "diarrhoea" and alert.child_count == 3 and alert.unit_code == 230602
    assert alert.first_day == local_today() - dt.timedelta(days=2)
    [event] = list(await db.scalars(select(Event).where(Event.type == "health_cluster.alert")))
    assert event.institution_id == inst.id and event.department_codes == ["health"] and event.unit_code == 230602
    assert is_critical(event)

    def officer(department, unit):
        return Principal(uuid.uuid4(), uuid.uuid4(), (Grant(Role.OFFICER, department_code=department, unit_code=unit),))

    assert audience_allows(officer("health", 230602), event) and audience_allows(officer("health", None), event)
    assert not audience_allows(officer("health", 230621), event)
    assert not audience_allows(officer("market", 230602), event)

    # The lists: the institution's staff and the unit's health officer see it; another unit's does not.
    _, county = await factory.signed_in(Role.OFFICER, department="health", unit=230602)
    _, elsewhere = await factory.signed_in(Role.OFFICER, department="health", unit=230621)
    _, market = await factory.signed_in(Role.OFFICER, department="market", unit=230602)
    for headers, count in ((staff, 1), (county, 1), (elsewhere, 0), (market, 0)):
        r = await client.get("/api/childhealth/clusters", headers=headers)
        assert r.status_code == 200 and len(r.json()) == count
    listed = (await client.get("/api/childhealth/clusters", headers=county)).json()[0]
    assert "name" not in json.dumps(listed).replace("institution_name", "").replace("class_name", "")

    # Reason-based access: audited with the reason and the children read.
    access = f"/api/childhealth/clusters/{alert.id}/access"
    assert (await client.post(access, headers=county, json={})).status_code == 400
    assert (await client.post(access, headers=elsewhere, json={"reason": "聚集性疫情调查"})).status_code == 404
    assert (await client.post(access, headers=market, json={"reason": "聚集性疫情调查"})).status_code == 404
    assert (await client.post(access, headers=staff, json={"reason": "聚集性疫情调查"})).status_code == 403
    r = await client.post(access, headers=county, json={"reason": "聚集性疫情调查"})
    assert r.status_code == 200, r.text
    opened = strict(r.content, ClusterAccessOut)
    assert {c.child_id for c in opened.checks} == {f[2].id for f in families}  # the window up to today
    entry = await db.scalar(
        select(AuditEntry).where(AuditEntry.action == "childhealth.cluster_access").order_by(AuditEntry.id.desc())
    )
    assert entry.note["reason"] == "聚集性疫情调查" and set(entry.child_ids) == {f[2].id for f in families}


async def test_the_checks_are_in_the_family_export(client, kindergarten):
    _, class_id, families, staff, _ = kindergarten
    _, headers, child = families[0]
    body = {"child_id": str(child.id), "well": False, "symptoms": ["rash"], "outcome": "isolation"}
    assert (await client.post(checks_url(class_id), headers=staff, json=body)).status_code == 201
    export = (await client.get("/api/me/export", headers=headers)).json()
    [check] = export["daily_health_checks"]
    assert check["outcome"] == "isolation" and '"rash"' in check["findings"]
