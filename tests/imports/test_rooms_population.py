"""Rooms and population imports: matched by source id / area and year, idempotent, round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.imports import service
from backend.imports.crs import Crs
from backend.imports.models import PopulationArea
from backend.imports.tables import FileFormat, read_table, write_table
from backend.rooms.models import Room, RoomRevision

ROOM_HEADER = ["来源编号", "母婴室名称", "所在场所", "场所类型", "地址", "位置说明", "经度", "纬度", "配套设施",
               "面积（平方米）", "独立设置", "管理单位", "联系电话"]  # fmt: skip


def room(source: str, **over: str) -> list[str]:
    values = dict(zip(ROOM_HEADER, [source, f"母婴室{source}", "大庆站", "交通枢纽", "让胡路区站前路1号", "二楼候车厅",
                                    "124.87", "46.65", "婴儿护理台、哺乳椅", "12", "是", "大庆站", "0459-1234567"],
                      strict=True))  # fmt: skip
    values.update(over)
    return [values[h] for h in ROOM_HEADER]


async def dry(db, kind, content, crs=Crs.WGS84):
    return await service.dry_run(db, None, kind=kind, content=content, filename="f", crs=crs, actor=None, via="cli")


async def test_rooms_created_then_updated_by_source_id_with_revisions(db):
    content = write_table(FileFormat.CSV, ROOM_HEADER, [room("ZGH-001"), room("ZGH-002", 配套设施="")])
    first = await dry(db, "rooms", content, Crs.GCJ02)
    assert first.error_count == 0, first.problems
    assert first.counts == {"create": 2, "update": 0, "unchanged": 0}
    await service.apply(db, None, first.id, None)
    r1 = (await db.execute(select(Room).where(Room.source_id == "ZGH-001"))).scalar_one()
    assert r1.amenities == ["changing_table", "nursing_chair"] and r1.venue_type == "transport_hub"
    assert r1.version == 1 and r1.unit_code is not None
    again = await dry(db, "rooms", content, Crs.GCJ02)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 2}
    await service.apply(db, None, again.id, None)
    changed = write_table(FileFormat.CSV, ROOM_HEADER, [room("ZGH-001", 面积="20", 位置说明="三楼")])
    result = await dry(db, "rooms", changed, Crs.GCJ02)
    assert result.counts == {"create": 0, "update": 1, "unchanged": 0}
    await service.apply(db, None, result.id, None)
    await db.refresh(r1)
    assert r1.version == 2 and r1.location_hint == "三楼"
    revisions = await db.scalar(select(func.count()).select_from(RoomRevision).where(RoomRevision.room_id == r1.id))
    assert revisions == 2


async def test_room_errors(db):
    rows = [room("A", 场所类型="火星"), room("A"), room("B", 配套设施="按摩椅"), room("C", 经度="", 纬度="")]
    result = await dry(db, "rooms", write_table(FileFormat.XLSX, ROOM_HEADER, rows))
    codes = {(p["row"], p["code"]) for p in result.problems}
    assert {(2, "bad_venue_type"), (3, "duplicate_in_file"), (4, "bad_amenity"), (5, "needs_geocoding")} <= codes


@pytest.mark.parametrize("fmt", list(FileFormat))
async def test_rooms_export_import_identity(db, fmt):
    await service.apply(db, None, (await dry(db, "rooms", write_table(fmt, ROOM_HEADER, [room("X-1")]))).id, None)
    db.add(Room(name="应用内录入", venue="商场", venue_type="commercial_centre", address="萨尔图区某路", lat=46.6,
                lng=125.1, amenities=[]))  # fmt: skip
    await db.flush()
    exported = await service.export(db, "rooms", fmt, Crs.WGS84)
    result = await dry(db, "rooms", exported)
    assert result.error_count == 0, result.problems
    total = await db.scalar(select(func.count()).select_from(Room))
    assert result.counts == {"create": 0, "update": 0, "unchanged": total}


POP_HEADER = ["区县", "街道（乡镇）/社区", "年份", "常住人口", "0-3岁婴幼儿数"]


async def test_population_by_unit_and_street(db):
    rows = [["萨尔图区", "", "2024", "420000", "9800"], ["萨尔图区", "东风街道", "2024年", "61000", "1500"],
            ["龙凤", "", "2024", "300000", "7100"]]  # fmt: skip
    first = await dry(db, "population", write_table(FileFormat.CSV, POP_HEADER, rows))
    assert first.error_count == 0, first.problems
    assert first.counts == {"create": 3, "update": 0, "unchanged": 0}
    await service.apply(db, None, first.id, None)
    rows[1][3] = "62000"
    second = await dry(db, "population", write_table(FileFormat.CSV, POP_HEADER, rows))
    assert second.counts == {"create": 0, "update": 1, "unchanged": 2}
    await service.apply(db, None, second.id, None)
    street = (await db.execute(select(PopulationArea).where(PopulationArea.street == "东风街道"))).scalar_one()
    assert (street.unit_code, street.year, street.residents, street.children_0_3) == (230602, 2024, 62000, 1500)
    exported = await service.export(db, "population", FileFormat.CSV, Crs.WGS84)
    assert read_table(exported).rows[0][:3] == ["萨尔图区", "", "2024"]
    third = await dry(db, "population", exported)
    assert third.counts == {"create": 0, "update": 0, "unchanged": 3}


async def test_population_errors(db):
    rows = [["萨尔图区", "", "2024", "100", "200"], ["萨尔图区", "", "1900", "100", "2"], ["某区", "", "2024", "1", "0"],
            ["龙凤区", "", "2024", "1000", "1"], ["龙凤区", "", "2024", "1000", "1"]]  # fmt: skip
    result = await dry(db, "population", write_table(FileFormat.XLSX, POP_HEADER, rows))
    codes = {(p["row"], p["code"]) for p in result.problems}
    assert {(2, "children_exceed_residents"), (3, "number_out_of_range"), (4, "unknown_unit"),
            (6, "duplicate_in_file")} <= codes  # fmt: skip
