"""The supply gap: places per 1,000 residents against 4.5, per 100 children, 普惠 places, the gap;
imported population as the denominator, the demo population (approximate) otherwise; unit scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from backend.core.authz import Role
from backend.core.clock import CHINA
from backend.imports import service
from backend.imports.crs import Crs
from backend.imports.tables import FileFormat, read_table, write_table
from tests.imports.helpers import HEADER, inst_row

POP = ["区县", "街道（乡镇）/社区", "年份", "常住人口", "0-3岁婴幼儿数"]


async def load(db, kind, header, rows):
    run = await service.dry_run(
        db, None, kind=kind, content=write_table(FileFormat.CSV, header, rows), filename="f", crs=Crs.WGS84,
        actor=None, via="cli",
    )  # fmt: skip
    assert run.error_count == 0, run.problems
    await service.apply(db, None, run.id, None)


async def test_supply_gap_by_unit_and_street(client, factory, db):
    header = [*HEADER, "所属街道（乡镇）"]
    # 肇源县 (230622): two institutions in 东风街道 (35 places each, one 普惠), one in 西城 (35 places)
    await load(db, "institutions", header, [
        [*inst_row(301, 所属区县="肇源县", 经度="125.08", 纬度="45.52"), "东风街道"],
        [*inst_row(302, 所属区县="肇源县", 经度="125.08", 纬度="45.52", 普惠="否"), "东风街道"],
        [*inst_row(303, 所属区县="肇源县", 经度="125.08", 纬度="45.52"), "西城街道"],
    ])  # fmt: skip
    await load(db, "population", POP, [
        ["肇源县", "", "2023", "300000", "5000"], ["肇源县", "", "2024", "290000", "4800"],
        ["肇源县", "东风街道", "2024", "20000", "400"], ["肇源县", "西城街道", "2024", "10000", "200"],
    ])  # fmt: skip
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    r = await client.get("/api/statistics/supply", headers=admin)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["target_per_1000"] == 4.5
    units = {u["unit_code"]: u for u in data["units"]}
    zy = units[230622]
    assert (zy["year"], zy["residents"], zy["children_0_3"], zy["approximate"]) == (2024, 290000, 4800, False)
    assert zy["places"] >= 105 and zy["target_places"] == 1305
    assert zy["gap"] == 1305 - zy["places"]
    assert units[230623]["approximate"] is True and units[230623]["year"] is None  # 林甸县: demo population
    streets = data["streets"]
    assert [s["street"] for s in streets] == ["东风街道", "西城街道"]  # gap 90-70=20 > 45-35=10
    east = streets[0]
    assert (east["places"], east["inclusive_places"], east["target_places"], east["gap"]) == (70, 35, 90, 20)
    assert east["places_per_1000"] == 3.5 and east["places_per_100_children"] == 17.5

    csv = await client.get("/api/statistics/supply/export.csv", headers=admin)
    table = read_table(csv.content)
    assert table.header[:3] == ["区县代码", "区县", "街道（乡镇）/社区"] and table.header[-1] == "托位缺口"
    assert table.rows[len(units)][:3] == ["230622", "肇源县", "东风街道"]

    _, unit_officer = await factory.signed_in(Role.OFFICER, department="health", unit=230602)
    mine = (await client.get("/api/statistics/supply", headers=unit_officer)).json()
    assert [u["unit_code"] for u in mine["units"]] == [230602] and mine["streets"] == []
    _, parent = await factory.signed_in(Role.PARENT)
    assert (await client.get("/api/statistics/supply", headers=parent)).status_code == 403


async def test_a_blacklisted_institution_offers_no_places(client, factory, db):
    """As in the overview: an entry in force today takes an institution's places out of the supply."""
    header = [*HEADER, "所属街道（乡镇）"]
    await load(db, "institutions", header, [
        [*inst_row(311, 所属区县="肇源县", 经度="125.08", 纬度="45.52"), "东风街道"],
        [*inst_row(312, 所属区县="肇源县", 经度="125.08", 纬度="45.52", 普惠="否"), "东风街道"],
    ])  # fmt: skip
    await load(db, "population", POP, [["肇源县", "东风街道", "2024", "20000", "400"]])
    _, admin = await factory.signed_in(Role.CITY_ADMIN)

    async def east() -> dict:
        streets = (await client.get("/api/statistics/supply", headers=admin)).json()["streets"]
        return next(s for s in streets if s["street"] == "东风街道")

    assert ((before := await east())["places"], before["inclusive_places"]) == (70, 35)
    inclusive = (
        await db.execute(text("SELECT id FROM institutions WHERE street = '东风街道' AND is_inclusive"))
    ).scalar_one()
    creator = (await db.execute(text("SELECT id FROM accounts LIMIT 1"))).scalar_one()
    await db.execute(
        text(
            "INSERT INTO blacklist_entries (id, kind, institution_id, reason, department_code, decision_no,"
            " decided_on, effective_from, created_by, created_at) VALUES (gen_random_uuid(), 'institution', :inst,"
            " '统计测试', 'health', '卫健罚〔2026〕1号', :today, :today, :by, now())"
        ),
        {"inst": inclusive, "today": dt.datetime.now(CHINA).date(), "by": creator},
    )
    after = await east()
    assert (after["places"], after["inclusive_places"]) == (35, 0)
