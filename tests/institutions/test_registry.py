"""The registry API: public reads, scoped writes, national rules enforced (422 naming the rule)."""

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from backend.core.authz import Role
from backend.institutions.models import CareClass, Institution
from tests.factories import random_uscc


@pytest.fixture
async def inst(factory):
    return await factory.institution(
        classes=[("infant", 9, 3, 4), ("toddler", 15, 3, 15)],
        modes={"full_day": (280000, "month"), "hourly": (4000, "hour")},
        is_inclusive=True,
    )


async def test_public_detail_shows_classes_vacancies_modes_and_flags(client, inst):
    r = await client.get(f"/api/institutions/{inst.id}")
    assert r.status_code == 200
    body = r.json()
    assert body["flags"]["inclusive"] is True
    assert [(c["class_type"], c["capacity"], c["enrolled"], c["vacancies"]) for c in body["classes"]] == [
        ("infant", 9, 4, 5),
        ("toddler", 15, 15, 0),
    ]
    assert body["classes"][0]["class_type_zh"] == "乳儿班"
    assert body["classes"][0]["age_min_months"] == 6 and body["classes"][0]["age_max_months"] == 12
    assert body["vacancies"] == 5
    assert {m["mode"]: (m["price_fen"], m["price_unit"]) for m in body["modes"]} == {
        "full_day": (280000, "month"),
        "hourly": (4000, "hour"),
    }
    assert body["opening_hours"] == [{"days": [1, 2, 3, 4, 5], "opens": "07:30", "closes": "17:30"}]
    assert body["unit_name_zh"] == "萨尔图区"


async def test_list_filters_and_paginates(client, factory):
    names = [f"分页测试{i:02d}" for i in range(7)]
    for n in names:
        await factory.institution(name=n, unit_code=230624)
    seen, cursor = [], None
    while True:
        params = {"unit": 230624, "limit": 3, "q": "分页测试"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/institutions", params=params)).json()
        seen += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names


async def test_own_admin_edits_profile_and_flags(client, factory, inst):
    _, headers = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    r = await client.patch(
        f"/api/institutions/{inst.id}",
        headers=headers,
        json={
            "phone": "0459-7654321",
            "flags": {"demonstration": True},
            "opening_hours": [{"days": [6, 1], "opens": "08:00", "closes": "12:00"}],
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["phone"] == "0459-7654321"
    assert body["flags"]["demonstration"] is True and body["flags"]["inclusive"] is True
    assert body["opening_hours"] == [{"days": [1, 6], "opens": "08:00", "closes": "12:00"}]


async def test_other_tenants_get_404_and_others_403(client, factory, inst):
    other = await factory.institution()
    _, other_admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=other.id)
    _, parent = await factory.signed_in(Role.PARENT)
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    patch = {"phone": "0459-0000000"}
    assert (await client.patch(f"/api/institutions/{inst.id}", headers=other_admin, json=patch)).status_code == 404
    assert (await client.patch(f"/api/institutions/{inst.id}", headers=parent, json=patch)).status_code == 403
    assert (await client.patch(f"/api/institutions/{inst.id}", headers=staff, json=patch)).status_code == 403
    assert (await client.patch(f"/api/institutions/{inst.id}", json=patch)).status_code == 401
    cls = {"name": "新班", "class_type": "toddler", "capacity": 10, "carers": 2}
    assert (await client.post(f"/api/institutions/{inst.id}/classes", headers=other_admin, json=cls)).status_code == 404
    assert (await client.get(f"/api/institutions/{inst.id}")).json()["phone"] == "0459-1234567"


async def test_staff_manage_classes_within_the_national_rules(client, factory, inst, db):
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    url = f"/api/institutions/{inst.id}/classes"
    ok = await client.post(
        url, headers=staff, json={"name": "托大一班", "class_type": "older_toddler", "capacity": 20, "carers": 3}
    )
    assert ok.status_code == 201
    assert ok.json()["carer_ratio_ok"] is True

    breaches = [
        ({"name": "a", "class_type": "older_toddler", "capacity": 21, "carers": 4}, 400, None),  # schema max 20
        ({"name": "b", "class_type": "infant", "capacity": 11, "carers": 4}, 422, "class_cap_exceeded"),
        ({"name": "c", "class_type": "toddler", "capacity": 16, "carers": 4}, 422, "class_cap_exceeded"),
        ({"name": "d", "class_type": "mixed", "capacity": 19, "carers": 4}, 422, "class_cap_exceeded"),
        ({"name": "e", "class_type": "infant", "capacity": 10, "carers": 3}, 422, "carer_ratio"),
        ({"name": "f", "class_type": "toddler", "capacity": 11, "carers": 2}, 422, "carer_ratio"),
        ({"name": "g", "class_type": "older_toddler", "capacity": 15, "carers": 2}, 422, "carer_ratio"),
        ({"name": "托大一班", "class_type": "toddler", "capacity": 5, "carers": 1}, 409, "class_name_taken"),
        ({"name": "h", "class_type": "babies", "capacity": 5, "carers": 1}, 400, None),
    ]
    for body, status, code in breaches:
        r = await client.post(url, headers=staff, json=body)
        assert r.status_code == status, body
        if code:
            assert r.json()["code"] == code
            assert r.json()["detail_zh"]
    count = await db.scalar(select(text("count(*)")).select_from(CareClass).where(CareClass.institution_id == inst.id))
    assert count == 3  # the two from the fixture and 托大一班

    class_id = ok.json()["id"]
    shrink = await client.patch(f"{url}/{class_id}", headers=staff, json={"carers": 2})
    assert shrink.status_code == 422 and shrink.json()["code"] == "carer_ratio"
    fine = await client.patch(f"{url}/{class_id}", headers=staff, json={"capacity": 14, "carers": 2})
    assert fine.status_code == 200 and fine.json()["capacity"] == 14


async def test_capacity_cannot_drop_below_enrolled_and_full_classes_stay(client, factory, inst, db):
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    full = (
        await db.execute(
            select(CareClass).where(CareClass.institution_id == inst.id, CareClass.class_type == "toddler")
        )
    ).scalar_one()
    r = await client.patch(f"/api/institutions/{inst.id}/classes/{full.id}", headers=staff, json={"capacity": 10})
    assert r.status_code == 422 and r.json()["code"] == "capacity_below_enrolled"
    gone = await client.delete(f"/api/institutions/{inst.id}/classes/{full.id}", headers=staff)
    assert gone.status_code == 409 and gone.json()["code"] == "class_not_empty"


async def test_home_based_points_hold_five_children_one_carer_per_three(client, factory):
    home = await factory.institution(classes=[("mixed", 3, 1, 0)], is_home_based=True)
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=home.id)
    url = f"/api/institutions/{home.id}/classes"
    too_many = await client.post(
        url, headers=admin, json={"name": "二组", "class_type": "toddler", "capacity": 3, "carers": 1}
    )
    assert too_many.status_code == 422 and too_many.json()["code"] == "home_based_cap"
    ratio = await client.post(
        url, headers=admin, json={"name": "二组", "class_type": "toddler", "capacity": 2, "carers": 0}
    )
    assert ratio.status_code == 422 and ratio.json()["code"] == "carer_ratio"
    fits = await client.post(
        url, headers=admin, json={"name": "二组", "class_type": "toddler", "capacity": 2, "carers": 1}
    )
    assert fits.status_code == 201


async def test_kindergarten_classes_take_two_to_three_year_olds_only(client, factory):
    kg = await factory.institution(classes=[("older_toddler", 20, 3, 0)], is_kindergarten_class=True)
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=kg.id)
    r = await client.post(
        f"/api/institutions/{kg.id}/classes",
        headers=admin,
        json={"name": "小班", "class_type": "toddler", "capacity": 10, "carers": 2},
    )
    assert r.status_code == 422 and r.json()["code"] == "kindergarten_class_type"
    flip = await client.patch(f"/api/institutions/{kg.id}", headers=admin, json={"flags": {"home_based": True}})
    assert flip.status_code == 422 and flip.json()["code"] == "flags_conflict"


async def test_turning_a_centre_into_a_home_point_rechecks_its_classes(client, factory, inst):
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    r = await client.patch(f"/api/institutions/{inst.id}", headers=admin, json={"flags": {"home_based": True}})
    assert r.status_code == 422 and r.json()["code"] == "home_based_cap"
    assert (await client.get(f"/api/institutions/{inst.id}")).json()["flags"]["home_based"] is False


async def test_the_database_enforces_the_same_rules(db, factory, inst):
    """Writes that bypass the service still cannot break the national rules."""
    statements = [
        (
            "INSERT INTO classes (institution_id, name, class_type, capacity, carers) VALUES (:i, 'x', 'infant', 11, 5)",
            IntegrityError,
            "ck_classes_class_cap",
        ),
        (
            "INSERT INTO classes (institution_id, name, class_type, capacity, carers) VALUES (:i, 'x', 'toddler', 11, 2)",
            IntegrityError,
            "ck_classes_carer_ratio",
        ),
        (
            "UPDATE classes SET offline_count = capacity + 1 WHERE institution_id = :i",
            IntegrityError,
            "ck_classes_places_within_capacity",
        ),
        ("UPDATE institutions SET is_home_based = true WHERE id = :i", DBAPIError, "home_based_cap"),
    ]
    for sql, error, name in statements:
        nested = await db.begin_nested()
        with pytest.raises(error) as exc:
            await db.execute(text(sql), {"i": inst.id})
        assert name in str(exc.value)
        await nested.rollback()


async def test_city_admin_registers_an_institution(client, factory, db):
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    body = {
        "name": "新登记托育中心",
        "legal_form": "social_organisation",
        "registration_no": random_uscc(230603),
        "unit_code": 230603,
        "address": "大庆市龙凤区测试街2号",
        "lat": 46.56,
        "lng": 125.14,
        "phone": "0459-5550000",
        "ownership": "private",
        "flags": {"community_run": True},
    }
    r = await client.post("/api/institutions", headers=admin, json=body)
    assert r.status_code == 201
    created = r.json()
    assert created["filing_status"] == "unfiled" and created["flags"]["community_run"] is True
    dup = await client.post("/api/institutions", headers=admin, json=body)
    assert dup.status_code == 409 and dup.json()["code"] == "registration_no_taken"

    bad = [
        (
            {
                **body,
                "registration_no": body["registration_no"][:-1] + ("Q" if body["registration_no"][-1] != "Q" else "R"),
            },
            422,
            "registration_no_invalid",
        ),
        ({**body, "registration_no": random_uscc(), "unit_code": 999999}, 422, "unknown_unit"),
        ({**body, "registration_no": random_uscc(), "lat": 91}, 400, None),
        ({**body, "registration_no": random_uscc(), "legal_form": "corporation"}, 400, None),
        (
            {
                **body,
                "registration_no": random_uscc(),
                "opening_hours": [{"days": [1], "opens": "18:00", "closes": "08:00"}],
            },
            422,
            "opening_hours_invalid",
        ),
        (
            {**body, "registration_no": random_uscc(), "flags": {"home_based": True, "kindergarten_class": True}},
            422,
            "flags_conflict",
        ),
    ]
    for payload, status, code in bad:
        r = await client.post("/api/institutions", headers=admin, json=payload)
        assert r.status_code == status, payload
        if code:
            assert r.json()["code"] == code
    names = (await db.execute(select(Institution.name).where(Institution.name == "新登记托育中心"))).scalars().all()
    assert names == ["新登记托育中心"]


async def test_only_city_admins_register(client, factory, inst):
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    r = await client.post("/api/institutions", headers=admin, json={})
    assert r.status_code == 403


async def test_admin_sets_and_removes_modes(client, factory, inst):
    _, admin = await factory.signed_in(Role.INSTITUTION_ADMIN, institution_id=inst.id)
    url = f"/api/institutions/{inst.id}/modes"
    r = await client.put(f"{url}/temporary", headers=admin, json={"price_fen": 15000, "price_unit": "day"})
    assert r.status_code == 200 and r.json()["mode_zh"] == "临时托"
    mismatch = await client.put(f"{url}/hourly", headers=admin, json={"price_fen": 15000, "price_unit": "month"})
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "price_unit_mismatch"
    assert (
        await client.put(f"{url}/weekly", headers=admin, json={"price_fen": 1, "price_unit": "day"})
    ).status_code == 400
    assert (await client.delete(f"{url}/hourly", headers=admin)).status_code == 204
    assert (await client.delete(f"{url}/hourly", headers=admin)).status_code == 404
    modes = {m["mode"] for m in (await client.get(f"/api/institutions/{inst.id}")).json()["modes"]}
    assert modes == {"full_day", "temporary"}
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    assert (await client.delete(f"{url}/full_day", headers=staff)).status_code == 403


async def test_unknown_institution_for_writes_is_404(client, factory):
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    r = await client.patch(f"/api/institutions/{uuid.uuid4()}", headers=admin, json={"phone": "0459-1111111"})
    assert r.status_code == 404


async def test_responses_match_their_documented_schemas(client, factory, inst):
    """The registry's JSON is rendered by PostgreSQL: it must be exactly the documented Structs."""
    from backend.institutions.schemas import ClassOut, InstitutionDetail, InstitutionPage
    from tests.strict import strict

    detail = strict((await client.get(f"/api/institutions/{inst.id}")).content, InstitutionDetail)
    page = strict((await client.get("/api/institutions", params={"q": inst.name})).content, InstitutionPage)
    assert [i.id for i in page.items] == [inst.id]
    assert page.items[0].classes == detail.classes

    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    added = strict(
        (
            await client.post(
                f"/api/institutions/{inst.id}/classes",
                headers=staff,
                json={"name": "新班", "class_type": "mixed", "capacity": 18, "carers": 4},
            )
        ).content,
        ClassOut,
    )
    rendered = strict((await client.get(f"/api/institutions/{inst.id}")).content, InstitutionDetail)
    assert added in rendered.classes  # Python's and SQL's renderings of a class agree
