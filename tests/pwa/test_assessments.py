"""Quality assessments in a real browser: the public institution page shows the latest published grade
and links to the history, the grade filter narrows the find-care list, and a county health officer
scores a new assessment with the running total and grade in view. The new screens meet the quality
bars (no sideways scroll at 360 px, 44 px targets, labelled inputs)."""

from __future__ import annotations

import re

import httpx

from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_quality import NARROW, audit

FEATURED = "萨尔图区示范性婴幼儿照护服务中心"  # demo: grade B (812.5), open rectification items
ZHAOZHOU_OFFICER = "zhaozhou.health@daqing.example"


def _institution_id(base_url: str, name: str) -> str:
    r = httpx.get(f"{base_url}/api/institutions", params={"q": name, "limit": 5}, timeout=15)
    assert r.status_code == 200, r.text
    [item] = [i for i in r.json()["items"] if i["name"] == name]
    return item["id"]


def test_public_page_shows_the_grade_and_the_filter_narrows_the_list(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    inst = _institution_id(e2e_server.base_url, FEATURED)
    page = new_context().new_page()
    page.goto(f"/institutions/{inst}")
    grade = page.get_by_test_id("quality-grade")
    grade.wait_for()
    assert "B 级" in grade.inner_text()
    assert "812.5" in page.get_by_test_id("quality").inner_text()
    screenshot(page, "assessments-institution")
    page.get_by_text("查看全部评估结果").click()
    page.wait_for_url(re.compile(rf"/institutions/{inst}/assessments$"))
    page.get_by_test_id("history-entry").first.wait_for()
    assert "B 级" in page.get_by_test_id("history-entry").first.inner_text()
    audit(new_context(viewport=NARROW).new_page(), f"/institutions/{inst}/assessments")

    # The find-care list (20 km around Saertu): with "A 级" only grade-A institutions remain.
    page.goto("/?radius=20000")
    cards = page.locator(".find-care__list li")
    cards.first.wait_for()
    everything = cards.count()
    page.locator(".filter-bar").get_by_role("button", name="筛选").click()
    page.get_by_test_id("grade-filter").get_by_role("menuitemradio", name="A 级").click()
    page.wait_for_url(re.compile(r"grade=A"))
    page.wait_for_function(f"document.querySelectorAll('.find-care__list li').length < {everything}")
    cards.first.wait_for()
    graded = cards.count()
    assert 0 < graded < everything
    for n in range(graded):
        assert "A 级" in cards.nth(n).get_by_test_id("card-grade").inner_text()
    screenshot(page, "assessments-find-care-grade")


def test_an_officer_scores_an_assessment_with_the_running_total(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, ZHAOZHOU_OFFICER)
    page.goto("/officer")
    page.get_by_test_id("officer-assessments").click()
    page.wait_for_url(re.compile(r"/officer/assessments$"))
    page.get_by_test_id("assessment-item").first.wait_for()  # the demo draft of 肇州县
    assert "草稿" in page.get_by_test_id("assessment-item").first.inner_text()
    page.get_by_test_id("assessment-item").first.get_by_role("button", name="评估详情").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    page.get_by_test_id("assessment-publish").wait_for()  # a draft: the officer may publish it
    audit(page, page.url)

    page.goto("/officer/assessments/new")
    total = page.get_by_test_id("running-total")
    total.wait_for()
    for key, value in (("care", "190"), ("safety", "170.5"), ("staff", "100")):
        page.get_by_test_id(f"score-{key}").locator("input").fill(value)
    assert "460.5" in total.inner_text() and "D 级" in total.inner_text()
    for key, value in (("facilities", "95"), ("health", "110"), ("parenting", "75"), ("management", "90")):
        page.get_by_test_id(f"score-{key}").locator("input").fill(value)
    for key in ("cooperation", "disclosure"):
        page.get_by_test_id(f"score-{key}").locator("input").fill("45")
    assert "920.5" in total.inner_text() and "A 级" in total.inner_text()
    screenshot(page, "assessments-form")

    for path in ("/officer/assessments", "/officer/assessments/new"):
        audit(page, path)
