"""Growth monitoring: WHO 2006 scores against the WHO's published values, consent, recording,
the guardian's chart, follow-up items with the gentle message, scopes, audit, export and erasure."""

from __future__ import annotations

import csv
import datetime as dt
import os

import pygrowup
import pytest
from sqlalchemy import func, select, text

from backend.childhealth import growth
from backend.childhealth.models import ChildHealthProfile, GrowthMeasurement, HealthFollowUp
from backend.childhealth.schemas import HEALTH_DATA_POLICY_VERSION, GrowthChartOut, MeasurementOut
from backend.childhealth.service import alerts
from backend.core.audit import AuditEntry
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.institutions.models import CareClass
from backend.realtime.events import message_for
from tests.strict import strict

CONSENT = {"policy_version": HEALTH_DATA_POLICY_VERSION, "accepted": True}


# ---------------------------------------------------------------------------------------------- the standard


def test_scores_match_the_who_anthro_example_survey():
    """WHO Anthro's example survey (``MySurvey_z_st.csv``, the WHO's own z-scores, shipped with the
    package): every weight-for-age, length/height-for-age, weight-for-length/height and BMI-for-age
    z-score of children under five measured lying under 24 months and standing after, to 0.01."""
    path = os.path.join(os.path.dirname(pygrowup.__file__), "test_datasets", "MySurvey_z_st.csv")
    compared = 0
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            age = int(row["age.days"])
            if age >= 1856 or row["oedema"] != "n" or not row["WEIGHT"] or not row["HEIGHT"]:
                continue
            if (row["measure"] == "l") != (age < growth.STANDING_FROM_DAYS):
                continue
            sex = "male" if row["GENDER"] == "1" else "female"
            scores = {
                s.indicator: s.z
                for s in growth.STANDARD.scores(
                    sex,
                    age,
                    length_cm=round(float(row["HEIGHT"]), 1),
                    weight_kg=round(float(row["WEIGHT"]), 2),
                    head_cm=None,
                )
            }
            for indicator, column in (("wfa", "zwei"), ("lhfa", "zlen"), ("wflh", "zwfl"), ("bfa", "zbmi")):
                if row[column]:
                    assert scores[indicator] == pytest.approx(float(row[column]), abs=0.011), (row["id"], indicator)
                    compared += 1
    assert compared > 1500


@pytest.mark.parametrize(
    ("indicator", "sex", "month", "published"),
    [
        # WHO Child Growth Standards, z-score tables (boys/girls, 0-5 years), rounded to 0.1 as published.
        ("wfa", "male", 12, {-3: 6.9, -2: 7.7, 0: 9.6, 2: 12.0, 3: 13.3}),
        ("wfa", "female", 12, {-3: 6.3, -2: 7.0, 0: 8.9, 2: 11.5, 3: 13.1}),
        ("lhfa", "male", 12, {-2: 71.0, 0: 75.7, 2: 80.5}),
        ("lhfa", "female", 12, {-2: 68.9, 0: 74.0, 2: 79.2}),
        ("wfa", "male", 0, {-2: 2.5, 0: 3.3, 2: 4.4}),
    ],
)
def test_reference_curves_are_the_who_published_values(indicator, sex, month, published):
    for z, value in published.items():
        [(_, y)] = growth.STANDARD.curve(indicator, sex, z, [float(month)])
        # The tables give months (day 365.25 × m / 12) rounded to 0.1; the curve is read at the whole day.
        assert y == pytest.approx(value, abs=0.06)


def test_alert_rules():
    score = growth.Score
    assert alerts([score("wfa", -2.1, 1.8)]) == ["wfa_low"]
    assert alerts([score("wflh", 2.3, 98.9)]) == ["wflh_high"]
    assert alerts([score("hcfa", -2.5, 0.6)]) == []  # shown, not one of the four alert indicators
    assert alerts([score("wfa", 1.9, 97.1)]) == []
    # From above the 85th centile to below the 50th: two lines crossed.
    assert alerts([score("wfa", -0.2, 42)], [score("wfa", 1.2, 88)]) == ["wfa_crossed"]
    assert alerts([score("wfa", 0.5, 69)], [score("wfa", 1.2, 88)]) == []


# ---------------------------------------------------------------------------------------------- the API


@pytest.fixture
async def nursery(factory, client):
    """An institution, its staff, a family with a child enrolled there (consented), and an outsider."""
    inst = await factory.institution()
    class_id = await factory.db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    parent, parent_headers = await factory.signed_in(Role.PARENT)
    child = await factory.placed_child(parent, inst.id, class_id)
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    other_inst = await factory.institution()
    _, outsider = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=other_inst.id)
    return inst, parent, parent_headers, child, staff, outsider


async def consent(client, headers, child_id, sex="male"):
    r = await client.put(
        f"/api/me/children/{child_id}/health-profile", headers=headers, json={"sex": sex, "consent": CONSENT}
    )
    assert r.status_code == 200, r.text
    return r.json()


def growth_url(child_id):
    return f"/api/childhealth/children/{child_id}/growth"


async def test_staff_record_and_the_guardian_sees_the_chart(client, db, nursery):
    _, _, parent_headers, child, staff, _ = nursery
    # Without the guardian's consent nothing is recorded.
    on = local_today().isoformat()
    r = await client.post(growth_url(child.id), headers=staff, json={"measured_on": on, "weight_kg": 10.0})
    assert r.status_code == 422 and r.json()["code"] == "health_consent_required"
    refused = await client.put(
        f"/api/me/children/{child.id}/health-profile",
        headers=parent_headers,
        json={"sex": "male", "consent": {**CONSENT, "accepted": False}},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "health_consent_required"
    await consent(client, parent_headers, child.id)
    # The sex is a ciphertext in the database.
    raw = await db.scalar(text("SELECT sex FROM child_health_profiles WHERE child_id = :c"), {"c": child.id})
    assert b"male" not in bytes(raw)

    age_days = (local_today() - child.birth_date).days
    body = {"measured_on": on, "length_cm": 78.0, "weight_kg": 10.2, "head_cm": 46.0}
    r = await client.post(growth_url(child.id), headers=staff, json=body)
    assert r.status_code == 201, r.text
    m = strict(r.content, MeasurementOut)
    assert m.age_days == age_days and {s.indicator for s in m.scores} == set(growth.INDICATORS)
    assert m.alerts == [] and m.measured_by_staff
    raw = await db.scalar(text("SELECT readings FROM growth_measurements WHERE id = :m"), {"m": m.id})
    assert b"78" not in bytes(raw)

    r = await client.get(f"/api/me/children/{child.id}/growth", headers=parent_headers)
    assert r.status_code == 200, r.text
    chart = strict(r.content, GrowthChartOut)
    assert chart.sex == "male" and chart.standard == "WHO 2006" and len(chart.measurements) == 1
    wfa = next(c for c in chart.charts if c.indicator == "wfa")
    assert wfa.title_zh == "年龄别体重" and [c.z for c in wfa.curves] == [-3, -2, 0, 2, 3]
    assert wfa.points[0].y == 10.2 and len(wfa.curves[2].points) >= 13
    # Curves rise with age and lie in z order.
    median = [y for _, y in wfa.curves[2].points]
    assert median == sorted(median)
    assert all(lo < hi for lo, hi in zip(wfa.curves[1].points, wfa.curves[3].points, strict=True))

    # Staff reads are audited with the child's id.
    r = await client.get(growth_url(child.id), headers=staff)
    assert r.status_code == 200 and len(r.json()) == 1
    audited = await db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.child_ids.contains([child.id]))
    )
    assert audited >= 2  # the recording answer and the read


async def test_values_beyond_two_sd_open_a_follow_up_and_tell_the_guardians_gently(client, db, nursery):
    inst, parent, parent_headers, child, staff, _ = nursery
    await consent(client, parent_headers, child.id)
    on = local_today().isoformat()
    r = await client.post(growth_url(child.id), headers=staff, json={"measured_on": on, "weight_kg": 6.0})
    assert r.status_code == 201, r.text
    assert r.json()["alerts"] == ["wfa_low"]

    r = await client.get("/api/childhealth/follow-ups", headers=staff)
    [item] = r.json()
    assert item["child_id"] == str(child.id) and item["reasons"] == ["wfa_low"] and item["status"] == "open"

    events = list(
        await db.scalars(select(Event).where(Event.type.in_(["growth.follow_up", "health_follow_up.opened"])))
    )
    guardian = next(e for e in events if e.type == "growth.follow_up")
    assert guardian.account_ids == [parent.id] and guardian.institution_id is None
    message = message_for(guardian)
    assert message.url == f"/children/{child.id}/growth" and "保健" in message.title_zh
    # No value, reason or name in what is delivered.
    for e in events:
        assert "wfa" not in str(e.payload) and "6.0" not in str(e.payload) and "测试宝宝" not in str(e.payload)
    staff_event = next(e for e in events if e.type == "health_follow_up.opened")
    assert staff_event.institution_id == inst.id and staff_event.account_ids == []

    r = await client.post(f"/api/childhealth/follow-ups/{item['id']}/close", headers=staff)
    assert r.status_code == 204
    assert (await client.get("/api/childhealth/follow-ups", headers=staff)).json() == []
    closed = (await client.get("/api/childhealth/follow-ups?status=closed", headers=staff)).json()
    assert [c["id"] for c in closed] == [item["id"]]


async def test_crossing_two_centile_lines_opens_a_follow_up(client, db, nursery):
    _, _, parent_headers, child, staff, _ = nursery
    await consent(client, parent_headers, child.id)
    today = local_today()
    age_days = (today - child.birth_date).days
    # The median weight 60 days ago, then a weight just under the 15th centile today.
    before = today - dt.timedelta(days=60)
    median_then = growth.STANDARD.curve("wfa", "male", 0, [(age_days - 60) / growth.DAYS_PER_MONTH])
    w_then = median_then[0][1]
    r = await client.post(
        growth_url(child.id),
        headers=staff,
        json={"measured_on": before.isoformat(), "weight_kg": round(w_then + 0.6, 1)},
    )
    assert r.status_code == 201 and r.json()["alerts"] == []
    w_now = growth.STANDARD.curve("wfa", "male", -1.3, [age_days / growth.DAYS_PER_MONTH])[0][1]
    r = await client.post(
        growth_url(child.id), headers=staff, json={"measured_on": today.isoformat(), "weight_kg": w_now}
    )
    assert r.status_code == 201
    assert r.json()["alerts"] == ["wfa_crossed"]
    assert (
        await db.scalar(select(func.count()).select_from(HealthFollowUp).where(HealthFollowUp.child_id == child.id))
        == 1
    )


async def test_bad_input_and_scopes(client, db, factory, nursery):
    _, _, parent_headers, child, staff, outsider = nursery
    await consent(client, parent_headers, child.id)
    on = local_today().isoformat()
    cases = [
        ({"measured_on": on}, "measurement_empty"),
        (
            {"measured_on": (local_today() + dt.timedelta(days=1)).isoformat(), "weight_kg": 9},
            "measured_on_out_of_range",
        ),
        ({"measured_on": "2019-01-01", "weight_kg": 9}, "measured_on_out_of_range"),
    ]
    for body, code in cases:
        r = await client.post(growth_url(child.id), headers=staff, json=body)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    r = await client.post(growth_url(child.id), headers=staff, json={"measured_on": on, "weight_kg": 400})
    assert r.status_code == 400
    # Another institution's staff, and another family, see nothing: 404.
    assert (await client.get(growth_url(child.id), headers=outsider)).status_code == 404
    r = await client.post(growth_url(child.id), headers=outsider, json={"measured_on": on, "weight_kg": 9})
    assert r.status_code == 404
    _, stranger = await factory.signed_in(Role.PARENT)
    assert (await client.get(f"/api/me/children/{child.id}/growth", headers=stranger)).status_code == 404
    r = await client.put(
        f"/api/me/children/{child.id}/health-profile", headers=stranger, json={"sex": "male", "consent": CONSENT}
    )
    assert r.status_code == 404
    # Officers see no individual record.
    _, officer = await factory.signed_in(Role.OFFICER, department="health")
    assert (await client.get(growth_url(child.id), headers=officer)).status_code == 403
    assert await db.scalar(select(func.count()).select_from(GrowthMeasurement)) == 0


async def test_export_holds_the_health_data_and_erasure_removes_it(client, db, nursery):
    _, parent, parent_headers, child, staff, _ = nursery
    await consent(client, parent_headers, child.id, sex="female")
    on = local_today().isoformat()
    r = await client.post(growth_url(child.id), headers=staff, json={"measured_on": on, "weight_kg": 5.0})
    assert r.status_code == 201
    export = (await client.get("/api/me/export", headers=parent_headers)).json()
    assert export["health_profiles"][0]["sex"] == "female"
    assert '"weight_kg": 5.0' in export["growth_measurements"][0]["readings"]
    assert len(export["health_follow_ups"]) == 1
    # Erasure deletes the child and, with it, every health record (the enrolment is withdrawn first).
    parent_row = parent
    from backend.accounts.models import Account
    from backend.core.security import hash_password

    account = await db.get(Account, parent_row.id)
    account.password_hash = hash_password("pw-erase-1234")
    await db.commit()
    r = await client.post("/api/me/erase", headers=parent_headers, json={"password": "pw-erase-1234"})
    assert r.status_code == 200, r.text
    for model in (ChildHealthProfile, GrowthMeasurement, HealthFollowUp):
        assert await db.scalar(select(func.count()).select_from(model).where(model.child_id == child.id)) == 0
