"""Applications for full-day and half-day places: states, places, waitlists, authorization, input."""

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update

from backend.core import maintenance
from backend.core.authz import Role
from backend.core.outbox import Event
from backend.enrolment.models import Application
from backend.enrolment.schemas import ApplicationDetail, QueueItem
from backend.institutions.models import CareClass
from tests.strict import strict

SOON = (dt.date.today() + dt.timedelta(days=3)).isoformat()


@pytest.fixture
async def place(factory):
    """A toddler class with 2 free places of 3 (one child enrolled offline), a staff member."""
    inst = await factory.institution(classes=[("toddler", 3, 1, 1)], modes={"full_day": (200000, "month")})
    cls_id = await factory.db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    return inst, cls_id, staff


async def family(factory, age_months=14):
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=age_months)
    return parent, child, headers


async def apply(client, headers, child, inst, **extra):
    body = {"child_id": str(child.id), "institution_id": str(inst.id), "mode": "full_day", "start_date": SOON, **extra}
    return await client.post("/api/applications", headers=headers, json=body)


async def counts(db, cls_id):
    cls = (
        await db.execute(select(CareClass).where(CareClass.id == cls_id).execution_options(populate_existing=True))
    ).scalar_one()
    rows = dict(
        (
            await db.execute(
                select(Application.status, func.count())
                .where(Application.class_id == cls_id)
                .group_by(Application.status)
            )
        ).all()
    )
    return cls, rows


async def test_the_whole_journey_writes_events_and_keeps_counters_equal_to_rows(client, factory, place, db):
    inst, cls_id, staff = place
    parent, child, headers = await family(factory)
    r = await apply(client, headers, child, inst)
    assert r.status_code == 201, r.text
    app = strict(r.content, ApplicationDetail)
    assert (app.status, app.status_zh, app.class_id) == ("submitted", "已提交", cls_id)
    base = f"/api/institutions/{inst.id}/applications/{app.id}"

    queue = strict(
        (await client.get(f"/api/institutions/{inst.id}/applications", headers=staff)).content, list[QueueItem]
    )
    assert [(q.id, q.child_age_months_at_start) for q in queue] == [(app.id, 14)]

    offered = await client.post(f"{base}/offer", headers=staff)
    assert offered.status_code == 200 and offered.json()["status"] == "offered"
    assert offered.json()["offer_expires_at"]
    cls, rows = await counts(db, cls_id)
    assert (cls.offered_count, cls.enrolled_count) == (1, 0) and rows == {"offered": 1}

    accepted = await client.post(f"/api/applications/{app.id}/accept", headers=headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    enrolled = await client.post(f"{base}/enrol", headers=staff)
    assert enrolled.json()["status"] == "enrolled"
    cls, rows = await counts(db, cls_id)
    assert (cls.offered_count, cls.enrolled_count) == (0, 1) and rows == {"enrolled": 1}

    detail = (await client.get(f"/api/institutions/{inst.id}")).json()
    assert detail["classes"][0]["enrolled"] == 2 and detail["classes"][0]["vacancies"] == 1

    ended = await client.post(f"{base}/end", headers=staff, json={"reason": "搬家"})
    assert ended.json()["status"] == "ended"
    cls, rows = await counts(db, cls_id)
    assert (cls.offered_count, cls.enrolled_count) == (0, 0) and rows == {"ended": 1}

    mine = strict((await client.get(f"/api/applications/{app.id}", headers=headers)).content, ApplicationDetail)
    assert [h.status for h in mine.history] == ["submitted", "offered", "accepted", "enrolled", "ended"]
    events = (await db.execute(select(Event).where(Event.subject_id == app.id).order_by(Event.id))).scalars().all()
    assert all(e.account_ids == [parent.id] and e.institution_id == inst.id for e in events)
    assert all(child.name not in str(e.payload) for e in events)  # no names in events


async def test_a_full_class_refuses_offers_and_the_waitlist_is_served_in_order(client, factory, place, db):
    inst, cls_id, staff = place
    apps = []
    for _ in range(4):
        _, child, headers = await family(factory)
        apps.append(((await apply(client, headers, child, inst)).json()["id"], headers))
    url = f"/api/institutions/{inst.id}/applications"
    for app_id, _ in apps[:2]:
        assert (await client.post(f"{url}/{app_id}/offer", headers=staff)).status_code == 200
    full = await client.post(f"{url}/{apps[2][0]}/offer", headers=staff)
    assert full.status_code == 409 and full.json()["code"] == "class_full"
    for app_id, _ in apps[2:]:
        assert (await client.post(f"{url}/{app_id}/waitlist", headers=staff)).json()["status"] == "waitlisted"
    positions = [
        (await client.get(f"/api/applications/{a}", headers=h)).json()["waitlist_position"] for a, h in apps[2:]
    ]
    assert positions == [1, 2]
    jump = await client.post(f"{url}/{apps[3][0]}/offer", headers=staff)
    assert jump.status_code == 409 and jump.json()["code"] == "not_head_of_waitlist"

    # A priority (with a reason) moves the last one to the head.
    prio = await client.post(f"{url}/{apps[3][0]}/priority", headers=staff, json={"priority": 5, "reason": "同胞在园"})
    assert prio.status_code == 200
    # A place frees up: the head of the waitlist is offered it automatically.
    withdrawn = await client.post(f"/api/applications/{apps[0][0]}/withdraw", headers=apps[0][1], json={})
    assert withdrawn.json()["status"] == "withdrawn"
    states = [(await client.get(f"/api/applications/{a}", headers=h)).json()["status"] for a, h in apps]
    assert states == ["withdrawn", "offered", "waitlisted", "offered"]
    auto = (
        await db.execute(
            select(Event.payload).where(Event.subject_id == apps[3][0], Event.type == "application.offered")
        )
    ).scalar_one()
    assert auto["automatic"] is True
    cls, rows = await counts(db, cls_id)
    assert cls.offered_count == rows["offered"] == 2 and cls.places_taken == cls.capacity


async def test_more_capacity_serves_the_waitlist(client, factory, db):
    inst = await factory.institution(classes=[("toddler", 5, 1, 5)])
    cls_id = await db.scalar(select(CareClass.id).where(CareClass.institution_id == inst.id))
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    _, child, headers = await family(factory)
    app_id = (await apply(client, headers, child, inst)).json()["id"]
    assert (
        await client.post(f"/api/institutions/{inst.id}/applications/{app_id}/waitlist", headers=staff)
    ).status_code == 200
    r = await client.patch(f"/api/institutions/{inst.id}/classes/{cls_id}", headers=staff, json={"offline_enrolled": 4})
    assert r.status_code == 200
    assert (await client.get(f"/api/applications/{app_id}", headers=headers)).json()["status"] == "offered"


async def test_expired_offers_free_their_place_for_the_next_in_line(client, factory, place, db, settings):
    inst, cls_id, staff = place
    await db.execute(update(CareClass).where(CareClass.id == cls_id).values(capacity=2))  # one place left
    await db.commit()
    (_, c1, h1), (_, c2, h2) = await family(factory), await family(factory)
    a1 = (await apply(client, h1, c1, inst)).json()["id"]
    a2 = (await apply(client, h2, c2, inst)).json()["id"]
    url = f"/api/institutions/{inst.id}/applications"
    await client.post(f"{url}/{a1}/offer", headers=staff)
    await client.post(f"{url}/{a2}/waitlist", headers=staff)
    # The offer's deadline passes (arranged in the database: tests do not wait days).
    await db.execute(
        text("UPDATE applications SET offer_expires_at = now() - interval '1 minute' WHERE id = :i"), {"i": a1}
    )
    await db.commit()
    late = await client.post(f"/api/applications/{a1}/accept", headers=h1)
    assert late.status_code == 409 and late.json()["code"] == "offer_expired"
    assert (await client.get(f"/api/applications/{a1}", headers=h1)).json()["status"] == "expired"
    assert (await client.get(f"/api/applications/{a2}", headers=h2)).json()["status"] == "offered"

    # The periodic job expires the next one just the same.
    await db.execute(
        text("UPDATE applications SET offer_expires_at = now() - interval '1 minute' WHERE id = :i"), {"i": a2}
    )
    await db.commit()
    counts_ = await maintenance.run_once(db, settings)
    assert counts_["expired_offers"] == 1
    cls, rows = await counts(db, cls_id)
    assert rows == {"expired": 2} and cls.offered_count == 0


async def test_one_place_per_child(client, factory, db):
    a = await factory.institution(classes=[("toddler", 5, 1, 0)])
    b = await factory.institution(classes=[("toddler", 5, 1, 0)])
    _, child, headers = await family(factory)
    ids = []
    for inst in (a, b):
        _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
        app_id = (await apply(client, headers, child, inst)).json()["id"]
        await client.post(f"/api/institutions/{inst.id}/applications/{app_id}/offer", headers=staff)
        ids.append(app_id)
    assert (await client.post(f"/api/applications/{ids[0]}/accept", headers=headers)).status_code == 200
    second = await client.post(f"/api/applications/{ids[1]}/accept", headers=headers)
    assert second.status_code == 409 and second.json()["code"] == "already_placed"


async def test_bad_applications_are_refused_and_write_nothing(client, factory, place, db):
    inst, _, _ = place
    parent, headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(parent, age_months=14)
    baby = await factory.child(parent, age_months=2)
    big = await factory.child(parent, age_months=40)
    stranger_child = (await family(factory))[1]
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    cases = [
        ({"start_date": past}, child, 422, "start_date_out_of_range"),
        ({"start_date": "2030-01-01"}, child, 422, "start_date_out_of_range"),
        ({"mode": "half_day"}, child, 422, "mode_not_offered"),
        ({}, baby, 422, "child_too_young"),
        ({}, big, 422, "child_too_old"),
        ({}, stranger_child, 404, "not_found"),
        ({"class_id": str(inst.id)}, child, 422, "no_class_for_age"),
        ({"mode": "hourly"}, child, 400, "validation_error"),
        ({"start_date": "2026-02-30"}, child, 400, "validation_error"),
        ({"institution_id": "00000000-0000-0000-0000-000000000000"}, child, 404, "not_found"),
    ]
    for extra, kid, status, code in cases:
        r = await apply(client, headers, kid, inst, **extra)
        assert (r.status_code, r.json()["code"]) == (status, code), (extra, r.text)
    assert (
        await db.scalar(select(func.count()).select_from(Application).where(Application.institution_id == inst.id)) == 0
    )

    ok = await apply(client, headers, child, inst)
    assert ok.status_code == 201
    again = await apply(client, headers, child, inst)
    assert again.status_code == 409 and again.json()["code"] == "already_applied"


async def test_staff_actions_need_the_right_institution_and_reasons(client, factory, place):
    inst, _, staff = place
    _, child, headers = await family(factory)
    app_id = (await apply(client, headers, child, inst)).json()["id"]
    other = await factory.institution()
    _, other_staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=other.id)
    url = f"/api/institutions/{inst.id}/applications/{app_id}"
    assert (await client.post(f"{url}/offer", headers=other_staff)).status_code == 404
    assert (
        await client.post(f"/api/institutions/{other.id}/applications/{app_id}/offer", headers=other_staff)
    ).status_code == 404
    assert (await client.get(f"/api/institutions/{inst.id}/applications", headers=other_staff)).status_code == 404
    assert (await client.get(f"/api/institutions/{inst.id}/desk", headers=other_staff)).status_code == 404
    assert (await client.post(f"{url}/offer", headers=headers)).status_code == 403  # a parent
    assert (await client.post(f"{url}/offer")).status_code == 401
    no_reason = await client.post(f"{url}/reject", headers=staff, json={})
    assert no_reason.status_code == 400
    assert (await client.post(f"{url}/reject", headers=staff, json={"reason": "年龄不符"})).json()[
        "status"
    ] == "rejected"
    again = await client.post(f"{url}/offer", headers=staff)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    # Another family cannot see or touch it.
    _, stranger = await factory.signed_in(Role.PARENT)
    assert (await client.get(f"/api/applications/{app_id}", headers=stranger)).status_code == 404
    assert (await client.post(f"/api/applications/{app_id}/withdraw", headers=stranger, json={})).status_code == 404
    assert (await client.get("/api/applications", headers=stranger)).json() == []


async def test_desk_shows_places_waitlist_and_ratio(client, factory, place):
    inst, cls_id, staff = place
    for _ in range(3):
        _, child, headers = await family(factory)
        await apply(client, headers, child, inst)
    desk = (await client.get(f"/api/institutions/{inst.id}/desk", headers=staff)).json()
    assert desk["classes"] == [
        {
            "id": str(cls_id),
            "name": "toddler-0",
            "class_type": "toddler",
            "class_type_zh": "托小班",
            "capacity": 3,
            "carers": 1,
            "carer_ratio_ok": True,
            "offline_enrolled": 1,
            "enrolled": 1,
            "offered": 0,
            "vacancies": 2,
            "waitlist": 0,
            "submitted": 3,
        }
    ]
    assert desk["slots"] == []


async def test_idempotent_applications_replay_and_refuse_a_changed_body(client, factory, place, db):
    inst, _, _ = place
    _, child, headers = await family(factory)
    keyed = {**headers, "Idempotency-Key": "apply-1"}
    first = await apply(client, keyed, child, inst)
    second = await apply(client, keyed, child, inst)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    changed = await apply(client, keyed, child, inst, start_date=(dt.date.today() + dt.timedelta(days=4)).isoformat())
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    count = await db.scalar(select(func.count()).select_from(Application).where(Application.child_id == child.id))
    assert count == 1
    # Keys are per account: another parent's identical key is a different key.
    _, other_child, other_headers = await family(factory)
    r = await apply(client, {**other_headers, "Idempotency-Key": "apply-1"}, other_child, inst)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    bad_key = await apply(client, {**headers, "Idempotency-Key": "has space"}, child, inst)
    assert bad_key.status_code == 400
