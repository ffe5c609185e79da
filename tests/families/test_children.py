"""A parent's children: only their guardians see or change them; everyone else gets 401/403/404."""

import datetime as dt

from sqlalchemy import func, select

from backend.core.authz import Role
from backend.core.clock import local_today
from backend.families.models import Child

CONSENT = {"policy_version": "2026-12", "accepted": True}


def days_ago(n: int) -> str:
    return (dt.date.today() - dt.timedelta(days=n)).isoformat()


async def test_parent_adds_lists_corrects_and_removes_a_child(client, factory, db):
    _, headers = await factory.signed_in(Role.PARENT)
    created = await client.post(
        "/api/me/children",
        headers=headers,
        json={"name": "豆豆", "birth_date": days_ago(400), "relation": "father", "consent": CONSENT},
    )
    assert created.status_code == 201
    child = created.json()
    assert child["relation"] == "father"
    assert 12 <= child["age_months"] <= 13

    listed = await client.get("/api/me/children", headers=headers)
    assert [c["id"] for c in listed.json()] == [child["id"]]

    patched = await client.patch(f"/api/me/children/{child['id']}", headers=headers, json={"name": "豆豆儿"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "豆豆儿"
    assert patched.json()["birth_date"] == child["birth_date"]

    removed = await client.delete(f"/api/me/children/{child['id']}", headers=headers)
    assert removed.status_code == 204
    assert (await client.get("/api/me/children", headers=headers)).json() == []
    assert await db.scalar(select(func.count()).select_from(Child).where(Child.id == child["id"])) == 0


async def test_another_parents_child_is_not_found(client, factory):
    owner = await factory.account(Role.PARENT)
    child = await factory.child(owner)
    _, other = await factory.signed_in(Role.PARENT)
    assert (await client.patch(f"/api/me/children/{child.id}", headers=other, json={"name": "x"})).status_code == 404
    assert (await client.delete(f"/api/me/children/{child.id}", headers=other)).status_code == 404
    assert (await client.get("/api/me/children", headers=other)).json() == []


async def test_staff_and_anonymous_cannot_touch_children(client, factory):
    inst = await factory.institution()
    _, staff = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=inst.id)
    assert (await client.get("/api/me/children", headers=staff)).status_code == 403
    assert (await client.get("/api/me/children")).status_code == 401


async def test_bad_birth_dates_and_names_write_nothing(client, factory, db):
    _, headers = await factory.signed_in(Role.PARENT)
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()  # Daqing's date, not the host's
    cases = [
        ({"name": "未来", "birth_date": tomorrow, "relation": "mother"}, 422),
        ({"name": "太大", "birth_date": days_ago(365 * 7), "relation": "mother"}, 422),
        ({"name": "", "birth_date": days_ago(100), "relation": "mother"}, 400),
        ({"name": "   ", "birth_date": days_ago(100), "relation": "mother"}, 422),
        ({"name": "<script>", "birth_date": days_ago(100), "relation": "mother"}, 400),
        ({"name": "x" * 51, "birth_date": days_ago(100), "relation": "mother"}, 400),
        ({"name": "豆豆", "birth_date": "2025-02-30", "relation": "mother"}, 400),
        ({"name": "豆豆", "birth_date": days_ago(100), "relation": "aunt"}, 400),
    ]
    for body, status in cases:
        r = await client.post("/api/me/children", headers=headers, json={**body, "consent": CONSENT})
        assert r.status_code == status, body
    assert (await client.get("/api/me/children", headers=headers)).json() == []


async def test_a_second_guardian_keeps_the_record_alive(client, factory, db):
    from backend.families.models import Guardianship

    mother, mother_headers = await factory.signed_in(Role.PARENT)
    father, father_headers = await factory.signed_in(Role.PARENT)
    child = await factory.child(mother)
    db.add(Guardianship(child_id=child.id, account_id=father.id, relation="father"))
    await db.commit()
    assert (await client.delete(f"/api/me/children/{child.id}", headers=mother_headers)).status_code == 204
    assert [c["id"] for c in (await client.get("/api/me/children", headers=father_headers)).json()] == [str(child.id)]
