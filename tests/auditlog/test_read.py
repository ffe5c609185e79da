"""City admins read the audit log, newest first, filtered and paged; nobody else reads it."""

from __future__ import annotations

import datetime as dt

from backend.core.authz import Role
from backend.core.clock import local_today
from tests.core.test_audit import _institution_body


async def test_city_admin_reads_filters_and_pages(client, factory):
    admin, headers = await factory.signed_in(Role.CITY_ADMIN)
    ids = []
    for _ in range(3):
        r = await client.post("/api/institutions", headers=headers, json=_institution_body())
        assert r.status_code == 201
        ids.append(r.json()["id"])
    page = (await client.get("/api/audit", headers=headers, params={"account_id": str(admin.id), "limit": 2})).json()
    assert [e["changes"][0]["id"] for e in page["items"]] == ids[::-1][:2]  # newest first
    assert page["next_before"] == page["items"][-1]["id"]
    rest = (
        await client.get(
            "/api/audit", headers=headers, params={"account_id": str(admin.id), "before": page["next_before"]}
        )
    ).json()
    assert [e["changes"][0]["id"] for e in rest["items"]] == [ids[0]] and rest["next_before"] is None
    prefix = await client.get(
        "/api/audit", headers=headers, params={"account_id": str(admin.id), "action": "institutions."}
    )
    assert len(prefix.json()["items"]) == 3
    today = await client.get(
        "/api/audit", headers=headers, params={"account_id": str(admin.id), "since": str(local_today())}
    )
    assert len(today.json()["items"]) == 3
    tomorrow = str(local_today() + dt.timedelta(days=1))
    later = await client.get("/api/audit", headers=headers, params={"account_id": str(admin.id), "since": tomorrow})
    assert later.json()["items"] == []
    other = await client.get("/api/audit", headers=headers, params={"account_id": str(admin.id), "action": "rooms."})
    assert other.json()["items"] == []


async def test_others_may_not_read_it(client, factory):
    for role, kw in [(Role.PARENT, {}), (Role.OFFICER, {"department": "health"})]:
        _, headers = await factory.signed_in(role, **kw)
        assert (await client.get("/api/audit", headers=headers)).status_code == 403
    assert (await client.get("/api/audit")).status_code == 401


async def test_bad_filters_are_4xx(client, factory):
    _, headers = await factory.signed_in(Role.CITY_ADMIN)
    # A range that ends before it starts is well-formed but breaks a rule: 422 with the rule's code.
    r = await client.get("/api/audit", headers=headers, params={"since": "2026-02-01", "until": "2026-01-01"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "bad_range"
    for params in (
        {"until": "0.5"},
        {"action": "DROP TABLE"},
        {"limit": 0},
        {"before": "x"},
    ):
        r = await client.get("/api/audit", headers=headers, params=params)
        assert r.status_code == 400, (params, r.text)
