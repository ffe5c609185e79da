"""The health-management and guidance rates per unit and month against 95 %, in the statistics (JSON and
CSV), on a small world: three children under 3 enrolled in 萨尔图区."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select

from backend.childhealth.models import EntryHealthCheck, GrowthMeasurement
from backend.childhealth.rates import measured_in_interval, month_end
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.guidance.models import GuidanceEvent, GuidanceRegistration
from backend.institutions.models import CareClass


def test_the_expected_interval():
    end = dt.date(2026, 12, 31)
    assert month_end(dt.date(2026, 2, 1)) == dt.date(2026, 2, 28) and month_end(dt.date(2026, 12, 1)) == end
    assert measured_in_interval(8, end, [dt.date(2026, 10, 15)])
    assert not measured_in_interval(8, end, [dt.date(2026, 9, 15)])  # under 1 year: every 3 months
    assert measured_in_interval(20, end, [dt.date(2026, 7, 15)])  # 1-3 years: every 6 months
    assert not measured_in_interval(20, end, [dt.date(2027, 1, 1)])  # after the month's end


async def test_rates_in_the_overview_and_the_csv(client, db, factory):
    inst = await factory.institution(unit_code=230602)
    class_id = await db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    families = []
    for _ in range(3):
        parent, _ = await factory.signed_in(Role.PARENT)
        families.append((parent, await factory.placed_child(parent, inst.id, class_id)))
    today = local_today()
    (pa, a), (_, b), (_, c) = families
    record = json.dumps({"hospital": "医院", "reasons": [], "items": []})
    readings = json.dumps({"length_cm": 78.0, "weight_kg": 10.0, "head_cm": None})
    for child in (a, b):
        db.add(
            EntryHealthCheck(
                id=uuid.uuid4(), child_id=child.id, source="staff", examined_on=today, passed=True, record=record
            )
        )
    for child in (a, c):
        db.add(GrowthMeasurement(id=uuid.uuid4(), child_id=child.id, measured_on=today, readings=readings))
    # Noon in Beijing today: inside this local month whenever the test runs.
    start = dt.datetime.combine(today, dt.time(4, 0), dt.UTC)
    event = GuidanceEvent(
        id=uuid.uuid4(),
        host_institution_id=inst.id,
        host_name="测试托育中心",
        unit_code=230602,
        kind="parent_class",
        title="辅食添加",
        description="测试",
        address="测试地址",
        lat=46.6,
        lng=125.1,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=10,
        registered=1,
    )
    db.add(event)
    await db.flush()
    db.add(
        GuidanceRegistration(id=uuid.uuid4(), event_id=event.id, account_id=pa.id, status="attended", attended_at=start)
    )
    await db.commit()

    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    r = await client.get("/api/statistics/overview", params={"unit": 230602}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["targets"]["health_management_pct"] == 95.0 and body["targets"]["guidance_pct"] == 95.0
    now = body["units"][0]["months"][-1]
    assert now["children_under3_in_care"] == 3 and now["health_managed"] == 1
    assert now["health_management_rate_pct"] == 33.3 and not now["health_management_target_met"]
    assert now["guidance_families"] == 3 and now["guidance_families_reached"] == 1
    assert now["guidance_rate_pct"] == 33.3 and not now["guidance_target_met"]

    csv = (await client.get("/api/statistics/export.csv", params={"unit": 230602}, headers=admin)).text
    assert "健康管理率（%，目标≥95）" in csv and "科学育儿指导率（%，目标≥95）" in csv
