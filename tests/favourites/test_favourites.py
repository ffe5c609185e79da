"""收藏: an account's favourite institutions — add (idempotent), list (newest first), remove; each
account sees only its own; an unknown institution is a 404 that writes nothing; and concurrent taps
on a real server (separate connections) leave exactly one row (the pair is the primary key)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from backend.core.authz import Role
from backend.core.security import hash_password
from backend.demo.data import DEMO_PASSWORD
from backend.favourites.models import Favourite
from tests.live import live_server, scratch_database

PASSWORD = "s3cret-Passw0rd"


async def test_add_list_remove_and_each_account_has_its_own(client, factory, db):
    a = await factory.institution(name="收藏测试甲托育中心")
    b = await factory.institution(name="收藏测试乙托育中心")
    _, mine = await factory.signed_in(Role.PARENT)
    _, theirs = await factory.signed_in(Role.INSTITUTION_STAFF, institution_id=a.id)

    assert (await client.get("/api/me/favourites", headers=mine)).json() == {"items": []}
    for inst in (a, b, a):  # the second tap on 甲 changes nothing
        r = await client.put(f"/api/me/favourites/{inst.id}", headers=mine)
        assert r.status_code == 204, r.text
    items = (await client.get("/api/me/favourites", headers=mine)).json()["items"]
    assert sorted(i["name"] for i in items) == ["收藏测试乙托育中心", "收藏测试甲托育中心"]
    assert {"institution_id", "name", "unit_name_zh", "address", "added_at"} <= set(items[0])
    assert (await client.get("/api/me/favourites", headers=theirs)).json() == {"items": []}

    assert (await client.delete(f"/api/me/favourites/{a.id}", headers=mine)).status_code == 204
    assert (await client.delete(f"/api/me/favourites/{a.id}", headers=mine)).status_code == 204  # again: fine
    items = (await client.get("/api/me/favourites", headers=mine)).json()["items"]
    assert [i["name"] for i in items] == ["收藏测试乙托育中心"]


async def test_bad_input_is_a_clear_4xx_that_writes_nothing(client, factory, db):
    _, mine = await factory.signed_in(Role.PARENT)
    before = await db.scalar(select(func.count()).select_from(Favourite))
    r = await client.put(f"/api/me/favourites/{uuid.uuid4()}", headers=mine)
    assert r.status_code == 404 and r.json()["code"] == "not_found" and r.json()["detail_zh"]
    for bad in ("not-a-uuid", "%00", "1" * 300):
        r = await client.put(f"/api/me/favourites/{bad}", headers=mine)
        assert 400 <= r.status_code < 500, (bad, r.status_code)
    assert (await client.get("/api/me/favourites")).status_code == 401
    assert await db.scalar(select(func.count()).select_from(Favourite)) == before


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=True) as url,
        live_server(url, tmp_path_factory.mktemp("favourites")) as srv,
    ):
        yield srv


async def test_concurrent_taps_leave_one_favourite(server):
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post("/api/auth/login", json={"login": "13800000002", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        inst = (await http.get("/api/institutions", params={"limit": 1})).json()["items"][0]["id"]

    async def tap() -> int:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as own:  # its own connection
            return (await own.put(f"/api/me/favourites/{inst}", headers=headers)).status_code

    assert set(await asyncio.gather(*(tap() for _ in range(20)))) == {204}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        items = (await http.get("/api/me/favourites", headers=headers)).json()["items"]
    assert [i["institution_id"] for i in items] == [inst]


async def test_favourites_are_in_the_family_export_and_gone_after_erasure(client, factory, db):
    inst = await factory.institution(name="收藏导出测试托育中心")
    parent, headers = await factory.signed_in(Role.PARENT, password_hash=hash_password(PASSWORD))
    assert (await client.put(f"/api/me/favourites/{inst.id}", headers=headers)).status_code == 204
    doc = (await client.get("/api/me/export", headers=headers)).json()
    assert [f["institution_id"] for f in doc["favourites"]] == [str(inst.id)]

    r = await client.post("/api/me/erase", headers=headers, json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    left = await db.scalar(select(func.count()).select_from(Favourite).where(Favourite.account_id == parent.id))
    assert left == 0
