"""The statistics dashboard in a real browser: the city admin opens it from the officer console, the
headline cards show the targets, the ECharts charts draw on canvases, the CSV link downloads, and a
unit officer sees only their unit. Nothing scrolls sideways on a 360 px phone."""

from __future__ import annotations

import re

from tests.pwa.conftest import screenshot, sign_in

ADMIN = "city.admin@daqing.example"
UNIT_OFFICER = "zhaozhou.health@daqing.example"  # health, unit 230621


def _no_horizontal_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px)"


def test_city_admin_opens_the_dashboard(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport={"width": 360, "height": 780}).new_page()
    sign_in(page, ADMIN)
    page.goto("/officer")
    page.get_by_test_id("officer-stats").click()
    page.wait_for_url(re.compile(r"/stats"))
    card = page.get_by_test_id("card-places")
    card.wait_for()
    assert "目标 4.5" in card.inner_text()
    assert "个县区已有" in page.get_by_test_id("card-demo").inner_text()
    assert "%" in page.get_by_test_id("card-filing").inner_text()
    # three charts (by unit, trend, complaints), each drawn on a canvas with a size
    charts = page.get_by_test_id("stats-chart")
    assert charts.count() == 3
    canvas = charts.first.locator("canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 200
    _no_horizontal_scroll(page)
    screenshot(page, "stats-dashboard")
    charts.nth(1).scroll_into_view_if_needed()
    charts.nth(1).locator("canvas").wait_for()
    screenshot(page, "stats-charts")
    href = page.get_by_test_id("stats-csv").get_attribute("href")
    assert href is not None and href.startswith("/api/statistics/export.csv?from=")
    with page.expect_download() as download:
        page.get_by_test_id("stats-csv").click()
    path = download.value.path()
    assert path is not None
    with open(path, "rb") as f:
        assert f.read(3) == b"\xef\xbb\xbf"


def test_unit_officer_sees_their_unit(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    sign_in(page, UNIT_OFFICER)
    page.goto("/stats")
    page.get_by_test_id("card-places").wait_for()
    assert "肇州县" in page.locator(".stats__asof").inner_text()
    assert page.get_by_test_id("stats-chart").count() == 2  # no by-unit bar chart for one unit
    assert "目标至少 1 家" in page.get_by_test_id("card-demo").inner_text()
