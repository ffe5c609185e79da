"""Filing (备案) in a real browser: the 肇州县 health officer opens the filing review queue from the
officer console (two demo submissions, one overdue), reads one with its documents and approves it;
the public institution page then shows it filed. The institution admin's filing screen and the review
screens meet the quality bars (no sideways scroll at 360 px, 44 px targets, labelled inputs)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import httpx

from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_quality import NARROW, audit

ZHAOZHOU_OFFICER = "zhaozhou.health@daqing.example"
INSTITUTION_ADMIN = "inst.admin@daqing.example"


def test_an_officer_approves_a_submitted_filing(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, ZHAOZHOU_OFFICER)
    page.goto("/officer")
    page.get_by_test_id("officer-filings").click()
    page.wait_for_url(re.compile(r"/officer/filings$"))
    items = page.get_by_test_id("filing-item")
    items.first.wait_for()
    assert items.count() == 2
    assert "已超期" in items.first.inner_text()  # earliest due first: the overdue one
    screenshot(page, "filing-queue")
    audit(page, "/officer/filings")

    page.get_by_test_id("filing-item").first.click()
    page.wait_for_url(re.compile(r"/officer/filings/[0-9a-f-]{36}$"))
    filing_path = urlparse(page.url).path
    page.get_by_test_id("filing-approve").wait_for()
    assert "已超期" in page.get_by_test_id("filing-status").inner_text()
    link = page.get_by_test_id("review-kind-fire_safety").get_by_role("link").first
    # A short-lived signed link (its bytes are fetched in tests/filing; the demo seed stored them under
    # another VAR_DIR than this test server's).
    assert "/api/files/signed/" in (link.get_attribute("href") or "")
    name = page.get_by_test_id("filing-status").locator(".staff-card__title").inner_text().split(" · ")[0]
    audit(page, filing_path)

    page.get_by_test_id("filing-approve").click()
    page.get_by_role("button", name="确认").click()
    page.get_by_test_id("filing-status-tag").filter(has_text="已备案").wait_for()
    assert page.get_by_test_id("filing-approve").count() == 0
    screenshot(page, "filing-approved")

    # The public page shows the institution filed, with the date.
    r = httpx.get(f"{e2e_server.base_url}/api/institutions", params={"q": name, "limit": 5}, timeout=15)
    [inst] = [i for i in r.json()["items"] if i["name"] == name]
    assert inst["filing_status"] == "filed"
    page.goto(f"/institutions/{inst['id']}")
    page.get_by_text(re.compile(r"已备案 · (\d{4}年)?\d{1,2}月\d{1,2}日 周[一二三四五六日]")).wait_for()

    # The queue no longer lists it.
    page.goto("/officer/filings")
    page.get_by_test_id("filing-item").first.wait_for()
    assert page.get_by_test_id("filing-item").count() == 1


def test_the_institution_admin_sees_the_filing_screen(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, INSTITUTION_ADMIN)
    page.goto("/staff")
    page.wait_for_url(re.compile(r"/staff/[0-9a-f-]{36}$"))
    page.get_by_role("tab", name="备案").click()
    page.wait_for_url(re.compile(r"/staff/[0-9a-f-]{36}/filing$"))
    assert "已备案" in page.get_by_test_id("filing-status").inner_text()
    screenshot(page, "filing-staff")
    audit(page, urlparse(page.url).path)
