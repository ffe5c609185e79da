"""Every officer / city-admin change writes one audit entry in the same transaction; nothing else does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from backend.core.audit import AuditEntry
from backend.core.authz import Role
from tests.factories import random_uscc


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
        "/api/me/children", headers=headers, json={"name": "小审", "birth_date": "2025-06-01", "relation": "mother"}
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
    with pytest.raises(DBAPIError, match="append-only"):
        await db.execute(text(statement))
    await nested.rollback()
