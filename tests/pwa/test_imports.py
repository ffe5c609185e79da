"""The import screen and the supply gap in the officer console: the city admin uploads a filing list
(progress, dry-run report, the annotated report), applies it, finds it in the history, and opens the
supply gap with its map layer; the screens meet the quality bars."""

from __future__ import annotations

import re

from backend.imports.tables import FileFormat, read_table
from tests.imports.helpers import inst_file, inst_row
from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_quality import NARROW, audit

ADMIN = "city.admin@daqing.example"


def test_city_admin_imports_a_filing_list_and_reads_the_supply_gap(new_context, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, ADMIN)
    page.goto("/officer")
    page.get_by_test_id("officer-imports").click()
    page.wait_for_url(re.compile(r"/officer/imports$"))

    bad = tmp_path / "备案名单.csv"
    bad.write_bytes(inst_file([inst_row(9001), inst_row(9002, 班级1托位数="40")], FileFormat.CSV))
    page.get_by_test_id("import-file").set_input_files(str(bad))
    page.get_by_text("已选择：备案名单.csv").wait_for()
    page.get_by_test_id("import-check").click()
    report = page.get_by_test_id("import-report")
    report.wait_for()
    text = report.inner_text()
    assert "新增 1" in text and "错误 1 处" in text and "第3行" in text and "托小班最多15人" in text
    assert page.get_by_test_id("import-apply").count() == 0  # errors: nothing to apply
    with page.expect_download() as download:
        page.get_by_test_id("import-download").click()
    annotated = read_table(download.value.path().read_bytes())
    assert annotated.header[-1] == "问题" and annotated.rows[1][-1].startswith("错误：")
    screenshot(page, "imports-report")

    good = tmp_path / "备案名单-修改.csv"
    good.write_bytes(inst_file([inst_row(9001), inst_row(9002)], FileFormat.CSV))
    page.get_by_test_id("import-file").set_input_files(str(good))
    page.get_by_test_id("import-check").click()
    page.get_by_test_id("import-apply").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/apply") and r.status == 200):
        page.get_by_test_id("import-apply").click()
    page.get_by_text("导入完成：新增 2，更新 0，不变 0").wait_for()
    history = page.get_by_test_id("import-history")
    history.get_by_text("已导入").first.wait_for()  # the history is reloaded after the apply
    assert "备案名单-修改.csv" in history.inner_text()
    assert "演示市级管理员" in history.inner_text()  # who imported it
    audit(page, "/officer/imports")

    page.goto("/officer")
    page.get_by_test_id("officer-supply").click()
    page.wait_for_url(re.compile(r"/stats/supply$"))
    units = page.get_by_test_id("supply-units")
    units.get_by_text("萨尔图区").wait_for()
    assert "每千人" in units.inner_text() and "估算人口" in units.inner_text()
    assert page.locator("[data-testid=supply-map] path.leaflet-interactive").count() == 10
    screenshot(page, "supply-gap")
    audit(page, "/stats/supply")
