"""The audit log screen: a county health officer returns a filing in one browser; the city admin, in
another, finds that action in 操作审计日志 (and other officers do not see the link)."""

from __future__ import annotations

import re

from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_quality import NARROW, audit

OFFICER = "zhaozhou.health@daqing.example"
ADMIN = "city.admin@daqing.example"


def test_the_city_admin_reads_an_officers_action_in_the_audit_log(new_context) -> None:  # type: ignore[no-untyped-def]
    officer = new_context().new_page()
    sign_in(officer, OFFICER)
    officer.goto("/officer")
    officer.get_by_test_id("officer-filings").wait_for()
    assert officer.get_by_test_id("officer-audit").count() == 0  # city admins only
    assert officer.get_by_test_id("officer-guidance").count() == 1  # health officers host guidance events
    assert officer.get_by_test_id("officer-imports").count() == 1  # ... and import their county's registers
    waiting = officer.request.get("/api/filings?status=submitted").json()
    assert waiting, "the demo data has filings waiting in 肇州县"
    csrf = next(c["value"] for c in officer.context.cookies() if c["name"] == "dq_csrf")
    r = officer.request.post(
        f"/api/filings/{waiting[0]['id']}/return",
        data={"reasons": "消防安全证明已过期，请补交"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status == 200, r.text()

    page = new_context(viewport=NARROW).new_page()
    sign_in(page, ADMIN)
    page.goto("/officer")
    page.get_by_test_id("officer-audit").click()
    page.wait_for_url(re.compile(r"/officer/audit$"))
    page.get_by_label("操作", exact=True).fill("filing.")
    with page.expect_response(lambda resp: "/api/audit" in resp.url and "action=filing." in resp.url):
        page.get_by_role("button", name="查询").click()
    entry = page.get_by_test_id("audit-entry").first
    entry.wait_for()
    text = entry.inner_text()
    assert "filing.decide" in text and f"/api/filings/{waiting[0]['id']}/return" in text
    assert "health · 230621" in text and "decision: returned" in text
    screenshot(page, "audit-log")
    audit(page, "/officer/audit")
