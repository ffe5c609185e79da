"""Quality assessments: recording, the DB-computed grade, publishing, follow-up, who may act, the public
results on the institution page and the grade filter, and bad input that writes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from backend.assessments.models import Assessment, RectificationItem
from backend.assessments.schemas import AssessmentListItem, AssessmentOut, PublicAssessment, StandardOut
from backend.assessments.standard import DIMENSIONS, grade_for
from backend.core.audit import AuditEntry
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.core.outbox import Event
from backend.institutions.schemas import InstitutionDetail, InstitutionPage, NearbyPage
from tests.strict import strict

API = "/api/assessments"
ZHAOZHOU = 230621
FULL = {d.key: float(d.max_points) for d in DIMENSIONS}  # 1000


def scores(total: float) -> dict[str, float]:
    """Scores adding up to ``total``: the shortfall from 1,000 taken from the dimensions in turn."""
    s = dict(FULL)
    short = round(1000 - total, 1)
    for d in DIMENSIONS:
        take = min(short, float(d.max_points))
        s[d.key] = round(d.max_points - take, 1)
        short = round(short - take, 1)
    return s


def body(institution_id: Any, total: float = 925, **over: Any) -> dict[str, Any]:
    today = local_today()
    b: dict[str, Any] = {
        "institution_id": str(institution_id),
        "assessed_on": (today - dt.timedelta(days=3)).isoformat(),
        "assessors": ["王专家", "李科长"],
        "scores": scores(total),
        "summary": "保育照护规范，安全管理到位。",
        "findings": "消防通道畅通；个别晨检记录不完整。",
        "items": [{"description": "补齐晨检记录", "deadline": (today + dt.timedelta(days=30)).isoformat()}],
    }
    b.update(over)
    return b


@pytest.fixture
async def w(factory):
    class W:
        pass

    x = W()
    x.inst = await factory.institution(unit_code=ZHAOZHOU, lat=45.70, lng=125.27)
    x.other_inst = await factory.institution(unit_code=230602)
    x.officer, x.officer_h = await factory.signed_in(Role.OFFICER, department="health", unit=ZHAOZHOU)
    x.other_officer, x.other_officer_h = await factory.signed_in(Role.OFFICER, department="health", unit=230602)
    x.city, x.city_h = await factory.signed_in(Role.OFFICER, department="health")
    x.police, x.police_h = await factory.signed_in(Role.OFFICER, department="police")
    x.admin, x.admin_h = await factory.signed_in(Role.CITY_ADMIN)
    x.staff, x.staff_h = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=x.inst.id)
    x.other_staff, x.other_staff_h = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=x.other_inst.id)
    x.parent, x.parent_h = await factory.signed_in(Role.PARENT)
    return x


async def create(client, w, headers=None, **over) -> AssessmentOut:
    r = await client.post(API, headers=headers or w.officer_h, json=body(w.inst.id, **over))
    assert r.status_code == 201, r.text
    return strict(r.content, AssessmentOut)


async def publish(client, w, assessment_id, headers=None) -> AssessmentOut:
    r = await client.post(f"{API}/{assessment_id}/publish", headers=headers or w.officer_h)
    assert r.status_code == 200, r.text
    return strict(r.content, AssessmentOut)


async def count(db, model=Assessment) -> int:
    return await db.scalar(select(func.count()).select_from(model))


async def test_the_standard_has_nine_dimensions_adding_up_to_1000(client):
    r = await client.get(f"{API}/dimensions")
    assert r.status_code == 200
    std = strict(r.content, StandardOut)
    assert std.code == "WS/T 821-2023" and std.total_points == 1000
    assert len(std.dimensions) == 9 and sum(d.max_points for d in std.dimensions) == 1000
    assert [(g.grade, g.min_total) for g in std.grades] == [("A", 900), ("B", 750), ("C", 600), ("D", 0)]


@pytest.mark.parametrize(
    ("total", "grade"),
    [(1000, "A"), (900, "A"), (899.9, "B"), (750, "B"), (749.5, "C"), (600, "C"), (599.9, "D"), (0, "D")],
)
def test_grade_cut_offs(total, grade):
    assert grade_for(total) == grade


async def test_an_officer_records_edits_and_publishes_and_the_public_sees_the_result(client, db, w):
    a = await create(client, w, total=925, grade="A")
    assert (a.status, a.total, a.grade) == ("draft", 925.0, "A")
    assert a.institution_name == w.inst.name and a.assessors == ["王专家", "李科长"]
    assert {s.key: s.score for s in a.scores} == scores(925)
    assert [i.status for i in a.items] == ["open"] and not a.items[0].overdue

    # A draft is not public, and the institution's staff do not see it yet.
    r = await client.get(f"/api/institutions/{w.inst.id}")
    assert strict(r.content, InstitutionDetail).quality is None
    assert (await client.get(f"/api/institutions/{w.inst.id}/assessments")).json() == []
    assert (await client.get(f"{API}/{a.id}", headers=w.staff_h)).status_code == 404
    assert (await client.get(API, headers=w.staff_h)).json() == []

    # Editing the draft: the database recomputes total and grade.
    edit = body(w.inst.id, total=812.5)
    del edit["institution_id"]
    r = await client.put(f"{API}/{a.id}", headers=w.officer_h, json=edit)
    assert r.status_code == 200, r.text
    a = strict(r.content, AssessmentOut)
    assert (a.total, a.grade) == (812.5, "B")

    a = await publish(client, w, a.id)
    assert a.status == "published" and a.published_at is not None

    detail = strict((await client.get(f"/api/institutions/{w.inst.id}")).content, InstitutionDetail)
    assert detail.quality is not None
    assert (detail.quality.grade, detail.quality.total, detail.quality.assessment_id) == ("B", 812.5, a.id)
    assert detail.quality.summary == "保育照护规范，安全管理到位。"
    history = strict((await client.get(f"/api/institutions/{w.inst.id}/assessments")).content, list[PublicAssessment])
    assert [(h.id, h.grade) for h in history] == [(a.id, "B")]
    assert sum(s.score for s in history[0].scores) == 812.5

    # The staff now read it, with its rectification items.
    staff_view = strict((await client.get(f"{API}/{a.id}", headers=w.staff_h)).content, AssessmentOut)
    assert len(staff_view.items) == 1
    listed = strict((await client.get(API, headers=w.staff_h)).content, list[AssessmentListItem])
    assert [(i.id, i.open_items) for i in listed] == [(a.id, 1)]

    # The staff were told, with ids only.
    [event] = (
        (await db.execute(select(Event).where(Event.type == "assessment.published", Event.subject_id == a.id)))
        .scalars()
        .all()
    )
    assert event.institution_id == w.inst.id and event.account_ids == []
    assert event.payload["assessment_id"] == str(a.id) and event.payload["grade"] == "B"
    assert w.inst.name not in str(event.payload)

    # Every step was audited with its action.
    actions = (
        await db.scalars(select(AuditEntry.action).where(AuditEntry.account_id == w.officer.id).order_by(AuditEntry.id))
    ).all()
    assert actions == ["assessments.create", "assessments.update", "assessments.publish"]


async def test_total_and_grade_are_computed_by_the_database(db, w):
    values = {f"score_{k}": v for k, v in scores(899.9).items()}
    a = Assessment(institution_id=w.inst.id, assessed_on=local_today(), assessors=["x"], summary="s", **values)
    db.add(a)
    await db.flush()
    await db.refresh(a)
    assert (a.total, a.grade) == (899.9, "B")
    with pytest.raises(DBAPIError):
        async with db.begin_nested():
            await db.execute(text("UPDATE assessments SET grade = 'A' WHERE id = :id"), {"id": a.id})
    with pytest.raises(DBAPIError):  # the CHECK bounds each dimension
        async with db.begin_nested():
            await db.execute(update(Assessment).where(Assessment.id == a.id).values(score_care=200.5))
    await db.rollback()


def _bad_cases(inst_id: Any) -> list[tuple[str, dict[str, Any], int, str | None]]:
    today = local_today()
    s = scores(900)
    past = (today - dt.timedelta(days=1)).isoformat()
    cases: list[tuple[str, dict[str, Any], int, str | None]] = [
        ("total does not add up", {"total": 901}, 422, "scores_do_not_add_up"),
        ("grade does not match", {"grade": "B"}, 422, "grade_does_not_match"),
        ("grade outside A-D", {"grade": "E"}, 400, "validation_error"),
        ("unknown dimension", {"scores": {**s, "food": 10}}, 422, "unknown_dimension"),
        ("missing dimension", {"scores": {k: v for k, v in s.items() if k != "safety"}}, 422, "missing_dimension"),
        ("score above its maximum", {"scores": {**s, "cooperation": 51}}, 422, "score_out_of_range"),
        ("negative score", {"scores": {**s, "cooperation": -1}}, 422, "score_out_of_range"),
        ("two decimals", {"scores": {**s, "cooperation": 49.25}}, 422, "score_precision"),
        ("date in the future", {"assessed_on": (today + dt.timedelta(days=1)).isoformat()}, 422, "date_in_the_future"),
        (
            "deadline in the past",
            {
                "assessed_on": (today - dt.timedelta(days=10)).isoformat(),
                "items": [{"description": "x", "deadline": past}],
            },
            422,
            "deadline_in_the_past",
        ),
        (
            "deadline on the assessment day",
            {"assessed_on": today.isoformat(), "items": [{"description": "x", "deadline": today.isoformat()}]},
            422,
            "deadline_before_assessment",
        ),
        (
            "too many items",
            {
                "items": [
                    {"description": f"事项{n}", "deadline": (today + dt.timedelta(days=9)).isoformat()}
                    for n in range(31)
                ]
            },
            422,
            "too_many_items",
        ),
        ("no assessor", {"assessors": []}, 400, "validation_error"),
        ("eleven assessors", {"assessors": [f"专家{n}" for n in range(11)]}, 400, "validation_error"),
        ("markup in the summary", {"summary": "<script>alert(1)</script>"}, 400, "validation_error"),
        ("unknown field", {"colour": "red"}, 400, "validation_error"),
        ("unknown institution", {"institution_id": str(uuid.uuid4())}, 404, "not_found"),
    ]
    return cases


async def test_bad_input_is_refused_clearly_and_writes_nothing(client, db, w):
    for name, over, status, code in _bad_cases(w.inst.id):
        b = {**body(w.inst.id, total=900), **over}
        r = await client.post(API, headers=w.officer_h, json=b)
        assert r.status_code == status, (name, r.text)
        assert r.json()["code"] == code, name
        assert r.json()["detail_zh"], name
    assert await count(db) == 0 and await count(db, RectificationItem) == 0
    assert await db.scalar(select(func.count()).where(AuditEntry.account_id == w.officer.id)) == 0


async def test_bad_edits_leave_the_draft_as_it_was(client, w):
    a = await create(client, w, total=925)
    edit = body(w.inst.id, total=700)
    del edit["institution_id"]
    edit["total"] = 701
    r = await client.put(f"{API}/{a.id}", headers=w.officer_h, json=edit)
    assert r.status_code == 422 and r.json()["code"] == "scores_do_not_add_up"
    again = strict((await client.get(f"{API}/{a.id}", headers=w.officer_h)).content, AssessmentOut)
    assert (again.total, again.grade, len(again.items)) == (925.0, "A", 1)


async def test_who_may_record_and_read(client, w):
    # Another unit's health officer, another department, staff and parents may not record here.
    for headers, status in ((w.other_officer_h, 404), (w.police_h, 404), (w.staff_h, 403), (w.parent_h, 403)):
        r = await client.post(API, headers=headers, json=body(w.inst.id))
        assert r.status_code == status, r.text
    assert (await client.post(API, json=body(w.inst.id))).status_code == 401
    # City-wide health officers and the city admin may, anywhere.
    await create(client, w, headers=w.city_h)
    a = await create(client, w, headers=w.admin_h)
    # Out of scope: 404 as if it did not exist; lists are filtered.
    for headers in (w.other_officer_h, w.police_h, w.other_staff_h, w.staff_h):
        assert (await client.get(f"{API}/{a.id}", headers=headers)).status_code == 404
        assert (await client.post(f"{API}/{a.id}/publish", headers=headers)).status_code in (403, 404)
    for headers in (w.other_officer_h, w.police_h):
        assert (await client.get(API, headers=headers)).json() == []
    assert len((await client.get(API, headers=w.officer_h)).json()) == 2
    assert (await client.get(API, headers=w.parent_h)).status_code == 403
    assert (await client.get(f"{API}/{a.id}", headers=w.officer_h)).status_code == 200


async def test_published_assessments_are_final(client, w):
    a = await create(client, w)
    await publish(client, w, a.id)
    edit = body(w.inst.id)
    del edit["institution_id"]
    r = await client.put(f"{API}/{a.id}", headers=w.officer_h, json=edit)
    assert r.status_code == 409 and r.json()["code"] == "assessment_published"
    r = await client.delete(f"{API}/{a.id}", headers=w.officer_h)
    assert r.status_code == 409
    r = await client.post(f"{API}/{a.id}/publish", headers=w.officer_h)
    assert r.status_code == 409 and r.json()["code"] == "already_published"


async def test_a_draft_can_be_deleted(client, db, w):
    a = await create(client, w)
    assert (await client.delete(f"{API}/{a.id}", headers=w.officer_h)).status_code == 204
    assert await count(db) == 0 and await count(db, RectificationItem) == 0


async def test_follow_up_response_and_overdue(client, db, w):
    a = await create(client, w)
    item = a.items[0].id
    url = f"{API}/{a.id}/items/{item}"
    r = await client.post(f"{url}/follow-up", headers=w.officer_h, json={"status": "rectified", "note": "已核实"})
    assert r.status_code == 409 and r.json()["code"] == "assessment_not_published"
    await publish(client, w, a.id)

    # The institution answers; another institution's staff cannot.
    r = await client.post(f"{url}/response", headers=w.staff_h, json={"note": "已补齐近一个月晨检记录"})
    assert r.status_code == 200, r.text
    assert strict(r.content, AssessmentOut).items[0].response_note == "已补齐近一个月晨检记录"
    assert (await client.post(f"{url}/response", headers=w.other_staff_h, json={"note": "x"})).status_code == 404
    assert (
        await client.post(f"{url}/follow-up", headers=w.staff_h, json={"status": "rectified", "note": "x"})
    ).status_code == 403

    # Past its deadline and still open: overdue.
    await db.execute(
        update(RectificationItem)
        .where(RectificationItem.id == item)
        .values(deadline=local_today() - dt.timedelta(days=1))
    )
    await db.commit()
    again = strict((await client.get(f"{API}/{a.id}", headers=w.officer_h)).content, AssessmentOut)
    assert again.items[0].overdue
    listed = (await client.get(API, headers=w.officer_h, params={"overdue": "true"})).json()
    assert [(i["id"], i["overdue_items"]) for i in listed] == [(str(a.id), 1)]

    r = await client.post(f"{url}/follow-up", headers=w.officer_h, json={"status": "rectified", "note": "现场复查合格"})
    assert r.status_code == 200, r.text
    done = strict(r.content, AssessmentOut).items[0]
    assert (done.status, done.overdue, done.followup_note) == ("rectified", False, "现场复查合格")
    assert done.followed_up_at is not None
    r = await client.post(f"{url}/follow-up", headers=w.officer_h, json={"status": "done", "note": "x"})
    assert r.status_code == 400
    other = f"{API}/{a.id}/items/{uuid.uuid4()}/follow-up"
    assert (await client.post(other, headers=w.officer_h, json={"status": "open", "note": "x"})).status_code == 404


async def test_publishing_rechecks_deadlines(client, db, w):
    a = await create(client, w)
    await db.execute(
        update(RectificationItem)
        .where(RectificationItem.assessment_id == a.id)
        .values(deadline=local_today() - dt.timedelta(days=1))
    )
    await db.commit()
    r = await client.post(f"{API}/{a.id}/publish", headers=w.officer_h)
    assert r.status_code == 422 and r.json()["code"] == "deadline_in_the_past"
    assert (await db.scalar(select(Assessment.status).where(Assessment.id == a.id))) == "draft"


async def test_the_latest_published_grade_is_public_and_filters_the_search(client, factory, w):
    good = w.inst
    fair = await factory.institution(unit_code=ZHAOZHOU, lat=45.701, lng=125.271)
    unrated = await factory.institution(unit_code=ZHAOZHOU, lat=45.702, lng=125.272)
    old = await create(client, w, total=950, assessed_on=(local_today() - dt.timedelta(days=400)).isoformat(), items=[])
    await publish(client, w, old.id)
    r = await client.post(API, headers=w.officer_h, json=body(fair.id, total=650, items=[]))
    await publish(client, w, r.json()["id"])
    draft = await create(client, w, total=500)  # a draft never counts

    async def listed(**params) -> set[uuid.UUID]:
        r = await client.get("/api/institutions", params={"unit": ZHAOZHOU, "limit": 50, **params})
        assert r.status_code == 200, r.text
        return {i.id for i in strict(r.content, InstitutionPage).items}

    async def near(**params) -> set[uuid.UUID]:
        r = await client.get(
            "/api/institutions/nearby", params={"lat": 45.70, "lng": 125.27, "radius_m": 2000, **params}
        )
        assert r.status_code == 200, r.text
        return {i.id for i in strict(r.content, NearbyPage).items}

    assert {good.id, fair.id, unrated.id} <= await listed()
    assert await listed(min_grade="A") == {good.id}
    assert await listed(min_grade="C") == {good.id, fair.id}
    assert await near(min_grade="B") == {good.id}
    assert await near(min_grade="D") == {good.id, fair.id}
    assert (await client.get("/api/institutions", params={"min_grade": "E"})).status_code == 400

    page = strict(
        (await client.get("/api/institutions", params={"unit": ZHAOZHOU, "limit": 50})).content, InstitutionPage
    )
    by_id = {i.id: i for i in page.items}
    assert by_id[good.id].quality and by_id[good.id].quality.grade == "A"
    assert by_id[unrated.id].quality is None

    # A newer published assessment replaces the grade shown and filtered on; the history keeps both.
    newer = await create(client, w, total=700, items=[])
    await publish(client, w, newer.id)
    assert await listed(min_grade="A") == set()
    assert await near(min_grade="C") == {good.id, fair.id}
    history = (await client.get(f"/api/institutions/{good.id}/assessments")).json()
    assert [h["grade"] for h in history] == ["C", "A"] and draft.id not in {h["id"] for h in history}
    assert (await client.get(f"/api/institutions/{uuid.uuid4()}/assessments")).status_code == 404


async def test_the_grade_filter_keeps_the_nearby_search_on_its_gist_index(db):
    from backend.institutions import queries
    from tests.institutions.test_nearby import _earth_index_scans, _generate, _plan

    await _generate(db, 2000)
    await db.execute(
        text(
            "INSERT INTO assessments (institution_id, assessed_on, assessors, summary, status, published_at, "
            + ", ".join(f"score_{d.key}" for d in DIMENSIONS)
            + ") SELECT id, current_date - 10, ARRAY['x'], 's', 'published', now(), "
            + ", ".join(str(d.max_points - 1) for d in DIMENSIONS)
            + " FROM institutions WHERE name LIKE 'g%' AND hashtext(name) % 3 = 0"
        )
    )
    await db.execute(text("ANALYZE assessments"))
    for q in (
        queries.NearbyQuery(lat=46.5, lng=125.5, radius_m=3000, min_grade="B"),
        queries.NearbyQuery(lat=46.5, lng=125.5, radius_m=3000, min_grade="A", vacancy=True, mode="full_day"),
    ):
        plan = await _plan(db, q)
        scans = _earth_index_scans(plan)
        assert scans and "<@" in scans[0]["Index Cond"], plan


async def test_recording_is_retry_safe_with_an_idempotency_key(client, db, w):
    headers = {**w.officer_h, "Idempotency-Key": "assess-retry-1"}
    first = await client.post(API, headers=headers, json=body(w.inst.id))
    again = await client.post(API, headers=headers, json=body(w.inst.id))
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert await count(db) == 1
    other = await client.post(API, headers=headers, json=body(w.inst.id, total=800))
    assert other.status_code == 422  # the same key with another body
