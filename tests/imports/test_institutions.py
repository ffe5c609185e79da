"""Institutions import: dry run, report, apply (all-or-nothing, idempotent), export round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, literal, select

from backend.core.errors import RuleViolation
from backend.imports import service
from backend.imports.crs import Crs, from_wgs84
from backend.imports.models import ImportRun
from backend.imports.tables import FileFormat, read_table, write_table
from backend.institutions.models import CareClass, Institution, InstitutionMode
from tests.imports.helpers import HEADER, inst_file, inst_row, uscc


async def run(db, content, crs=Crs.WGS84, kind="institutions", settings=None):
    return await service.dry_run(
        db, settings, kind=kind, content=content, filename="名单.xlsx", crs=crs, actor=None, via="cli"
    )


async def count(db, model, *where):
    return await db.scalar(select(func.count()).select_from(model).where(*where))


async def test_dry_run_reports_each_problem_and_writes_nothing(db):
    bad_code = uscc(2)[:-1] + ("0" if uscc(2)[-1] != "0" else "1")
    rows = [
        inst_row(1),
        inst_row(2, 统一社会信用代码=bad_code),
        inst_row(3, 班级1托位数="16"),  # 托小班 cap is 15
        inst_row(4, 班级2保育人员数="2"),  # 20 children need 3 carers at 1:7
        inst_row(5, 经度="126.63", 纬度="45.75"),  # Harbin
        inst_row(1, 机构名称="重复的"),  # same credit code as row 2
        inst_row(6, 机构名称="测试托育园1", 地址="萨尔图区测试路1号"),  # same name and address as row 2
        inst_row(7, 所属区县="道里区"),
        inst_row(8, 全日托收费="2800元/小时"),
        inst_row(9, 经度="", 纬度=""),
    ]
    before = await count(db, Institution)
    result = await run(db, inst_file(rows))
    codes = {(p["row"], p["code"]) for p in result.problems}
    assert (3, "registration_no_invalid") in codes
    assert (4, "class_cap_exceeded") in codes
    assert (5, "carer_ratio") in codes
    assert (6, "outside_daqing") in codes
    assert (7, "duplicate_in_file") in codes
    assert (8, "possible_duplicate") in codes
    assert (9, "unknown_unit") in codes
    assert (10, "bad_price_unit") in codes
    assert (11, "needs_geocoding") in codes  # no key configured: nothing is geocoded
    assert not any(p["row"] in (2, 8) and p["level"] == "error" for p in result.problems)
    assert result.error_count == 8 and result.counts["create"] == 2
    assert await count(db, Institution) == before  # a dry run writes only its history row
    with pytest.raises(RuleViolation) as refused:
        await service.apply(db, None, result.id, None)
    assert refused.value.code == "import_has_errors"
    assert await count(db, Institution) == before

    report = read_table(service.annotated_report(result))
    assert report.format is FileFormat.XLSX and report.header == [*HEADER, "问题"]
    assert report.rows[0][-1] == ""
    assert "统一社会信用代码格式或校验位错误" in report.rows[1][-1] and report.rows[1][-1].startswith("错误：")
    assert "疑似重复" in report.rows[6][-1] and "提示：" in report.rows[6][-1]


async def test_apply_creates_then_the_same_file_changes_nothing(db):
    content = inst_file([inst_row(11), inst_row(12, 普惠="否", 计时托收费="")], FileFormat.CSV)
    first = await run(db, content, Crs.GCJ02)
    assert first.error_count == 0 and first.counts["create"] == 2
    applied = await service.apply(db, None, first.id, None)
    assert applied.status == "applied" and applied.applied_at is not None
    inst = (await db.execute(select(Institution).where(Institution.registration_no == uscc(11)))).scalar_one()
    # GCJ-02 125.11, 46.63 converted to WGS-84: a few hundred metres south-west
    assert from_wgs84(Crs.GCJ02, inst.lng, inst.lat) == pytest.approx((125.11, 46.63), abs=1e-7)
    assert 0.003 < (125.11 - inst.lng) + (46.63 - inst.lat) < 0.02
    assert inst.is_inclusive and inst.legal_form == "social_organisation" and inst.ownership == "private"
    modes = dict((await db.execute(select(InstitutionMode.mode, InstitutionMode.price_fen).where(
        InstitutionMode.institution_id == inst.id))).tuples().all())  # fmt: skip
    assert modes == {"full_day": 280000, "hourly": 3000}
    classes = (await db.execute(select(CareClass.name, CareClass.class_type, CareClass.capacity).where(
        CareClass.institution_id == inst.id).order_by(CareClass.name))).all()  # fmt: skip
    assert [tuple(c) for c in classes] == [("托大一班", "older_toddler", 20), ("托小一班", "toddler", 15)]
    stamp = inst.updated_at

    again = await run(db, content, Crs.GCJ02)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 2, "classes": 0}
    await service.apply(db, None, again.id, None)
    await db.refresh(inst)
    assert inst.updated_at == stamp
    with pytest.raises(Exception) as twice:
        await service.apply(db, None, again.id, None)
    assert getattr(twice.value, "code", None) == "import_applied"

    changed = inst_file([inst_row(11, 全日托收费="3000", 班级1托位数="12"), inst_row(12, 普惠="否", 计时托收费="")],
                        FileFormat.CSV)  # fmt: skip
    third = await run(db, changed, Crs.GCJ02)
    assert third.counts["update"] == 1 and third.counts["unchanged"] == 1
    await service.apply(db, None, third.id, None)
    price = await db.scalar(select(InstitutionMode.price_fen).where(
        InstitutionMode.institution_id == inst.id, InstitutionMode.mode == "full_day"))  # fmt: skip
    assert price == 300000
    runs = await count(db, ImportRun, ImportRun.kind == "institutions", ImportRun.status == "applied")
    assert runs >= 3


async def test_a_row_invalid_since_the_dry_run_refuses_the_whole_file(db):
    # Apply checks again: a class whose places were taken meanwhile cannot shrink below them, and
    # the first (valid) row is not written either.
    content = inst_file([inst_row(21), inst_row(22)])
    checked = await run(db, content)
    await db.execute(Institution.__table__.insert().values(
        name="抢先登记", legal_form="for_profit", registration_no=uscc(22), unit_code=230602, address="x",
        lat=46.6, lng=125.1, phone="0459-1", ownership="private"))  # fmt: skip
    await db.execute(CareClass.__table__.insert().from_select(
        ["institution_id", "name", "class_type", "capacity", "carers", "offline_count"],
        select(Institution.id, literal("托小一班"), literal("toddler"), literal(15), literal(3), literal(15)).where(Institution.registration_no == uscc(22))))  # fmt: skip
    # The place count (15 children offline) now forbids lowering the class: re-check at apply refuses.
    content2 = inst_file([inst_row(21), inst_row(22, 班级1托位数="10", 班级1保育人员数="2")])
    second = await run(db, content2)
    assert any(p["code"] == "capacity_below_enrolled" for p in second.problems)
    with pytest.raises(RuleViolation):
        await service.apply(db, None, second.id, None)
    assert await count(db, Institution, Institution.registration_no == uscc(21)) == 0
    assert checked.counts["create"] == 2


@pytest.mark.parametrize("fmt", list(FileFormat))
@pytest.mark.parametrize("crs", [Crs.WGS84, Crs.BD09])
async def test_export_then_import_is_the_identity(db, fmt, crs):
    await service.apply(db, None, (await run(db, inst_file([inst_row(31), inst_row(32)]))).id, None)
    exported = await service.export(db, "institutions", fmt, crs)
    table = read_table(exported)
    assert table.header[:2] == ["机构名称", "统一社会信用代码"]
    result = await run(db, exported, crs)
    assert result.error_count == 0, result.problems[:3]
    assert result.counts["create"] == 0 and result.counts["update"] == 0
    assert result.counts["unchanged"] == await count(db, Institution)
    await service.apply(db, None, result.id, None)
    assert await service.export(db, "institutions", fmt, crs) == exported or fmt is FileFormat.XLSX
    assert read_table(await service.export(db, "institutions", fmt, crs)).rows == table.rows


async def test_headers_by_alias_and_missing_required_columns(db):
    header = ["托育机构名称", "信用代码", "区县", "详细地址", "lng", "lat", "电话"]
    row = ["别名托育园", uscc(41), "让胡路", "让胡路区某路1号", "124.87", "46.65", "13900000000"]
    result = await run(db, write_table(FileFormat.CSV, [*header, "备注"], [[*row, "随便"]]))
    assert result.error_count == 0, result.problems
    assert any(p["code"] == "unknown_column" and p["row"] == 1 for p in result.problems)
    with pytest.raises(RuleViolation) as missing:
        await run(db, write_table(FileFormat.CSV, ["机构名称", "地址"], [["甲", "乙"]]))
    assert missing.value.code == "missing_columns"
    with pytest.raises(RuleViolation) as twice:
        await run(db, write_table(FileFormat.CSV, ["机构名称", "名称"], [["甲", "乙"]]))
    assert twice.value.code == "duplicate_column"


async def test_a_list_with_a_title_reports_the_spreadsheets_own_row_numbers(db):
    """The title stays in the annotated report, so its rows are numbered as the JSON report says; the
    corrected report uploads again."""
    above = [["大庆市托育机构备案名单", *[""] * (len(HEADER) - 1)], [""] * len(HEADER)]
    rows = [inst_row(51), inst_row(52, 班级1托位数="16")]
    result = await run(db, write_table(FileFormat.CSV, HEADER, rows, above=above))
    assert [(p["row"], p["code"]) for p in result.problems if p["level"] == "error"] == [(5, "class_cap_exceeded")]
    report = read_table(service.annotated_report(result))
    assert report.header_row == 3 and report.above[0][0] == "大庆市托育机构备案名单"
    assert report.rows[1][-1].startswith("错误：") and report.rows[0][-1] == ""
    corrected = [[*inst_row(51), ""], [*inst_row(52), report.rows[1][-1]]]
    again = await run(db, write_table(FileFormat.CSV, report.header, corrected, above=report.above))
    assert again.error_count == 0 and again.counts["create"] == 2, again.problems
