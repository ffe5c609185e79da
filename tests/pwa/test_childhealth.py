"""Children's health end to end, in two browsers: a parent consents and opens the child's growth chart
(WHO reference curves drawn as inline SVG); a staff member records a measurement that needs attention;
the parent's open chart hears it live — the gentle message appears and the new point is drawn without
reloading. The screen also passes the axe audit."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_a11y import settle, violations_of

STAFF = "inst.staff@daqing.example"
PARENT = "13800000001"


def test_parent_sees_the_growth_chart_and_hears_live_when_staff_record(new_context) -> None:  # type: ignore[no-untyped-def]
    staff = new_context().new_page()
    sign_in(staff, STAFF)
    institution_id = staff.request.get("/api/me").json()["roles"][0]["institution_id"]

    parent = new_context().new_page()
    sign_in(parent, PARENT)
    applications = parent.request.get("/api/applications").json()
    child_id = next(
        a["child_id"]
        for a in applications
        if a["institution_id"] == institution_id and a["status"] in ("enrolled", "accepted")
    )

    # The parent consents on the chart screen (reached from 我的孩子).
    parent.goto(f"/children/{child_id}/growth")
    parent.get_by_role("radio", name="女孩").click()
    parent.get_by_role("checkbox", name="我已阅读并同意《儿童健康信息说明》（2026-12版）").click()
    parent.get_by_role("button", name="同意并保存").click()
    chart = parent.get_by_test_id("growth-svg")
    expect(chart).to_be_visible()
    expect(chart.locator("path.growth__curve")).to_have_count(5)  # -3, -2, 0, +2, +3 SD
    expect(chart.locator("circle")).to_have_count(0)
    expect(parent.get_by_text("还没有测量记录")).to_be_visible()
    settle(parent)
    assert violations_of(parent) == []

    # Staff record a weight far below the reference: the parent's open screen hears it live.
    csrf = next(c["value"] for c in staff.context.cookies() if c["name"] == "dq_csrf")
    today = staff.evaluate("new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)")  # Beijing date
    r = staff.request.post(
        f"/api/childhealth/children/{child_id}/growth",
        data={"measured_on": today, "weight_kg": 5.0, "length_cm": 80.0},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status == 201, r.text()
    assert "wfa_low" in r.json()["alerts"]

    expect(parent.get_by_test_id("growth-news")).to_contain_text("保健老师会与您沟通")
    expect(chart.locator("circle")).to_have_count(1)
    expect(parent.get_by_text("低于参考范围")).to_be_visible()
    screenshot(parent, "childhealth-growth-chart")
    assert violations_of(parent) == []

    # The staff's follow-up list has the item.
    items = staff.request.get("/api/childhealth/follow-ups").json()
    assert any(i["child_id"] == child_id and "wfa_low" in i["reasons"] for i in items)


def test_staff_record_the_morning_check_and_the_guardian_hears_at_once(new_context) -> None:  # type: ignore[no-untyped-def]
    staff = new_context().new_page()
    sign_in(staff, STAFF)
    institution_id = staff.request.get("/api/me").json()["roles"][0]["institution_id"]

    parent = new_context().new_page()
    sign_in(parent, PARENT)
    application = next(
        a
        for a in parent.request.get("/api/applications").json()
        if a["institution_id"] == institution_id and a["status"] == "enrolled"
    )
    parent.goto("/me")

    # From the desk's class card to the class's 晨午检 screen.
    staff.goto(f"/staff/{institution_id}")
    card = staff.locator(".desk-class").filter(has_text=application["class_name"]).first
    card.get_by_role("button", name="晨午检").click()
    staff.wait_for_url(re.compile(r"/health/classes/[0-9a-f-]{36}/checks$"))
    row = staff.get_by_test_id(f"check-{application['child_id']}")
    expect(row).to_contain_text("未检查")
    settle(staff)
    assert violations_of(staff) == []

    row.get_by_role("button", name=f"异常：{application['child_name']}").click()
    form = staff.locator(".checks__form")
    form.get_by_role("checkbox", name="发热").click()
    form.get_by_label("体温（℃）").fill("38.6")
    form.get_by_role("radio", name="通知家长接回").click()
    form.get_by_role("button", name="保存").click()
    expect(row).to_contain_text("发热 38.6℃ · 通知家长接回")
    screenshot(staff, "childhealth-class-checks")

    # The guardian's open app shows it at once (live), without the child's data.
    notice = parent.locator(".app-health-notify")
    expect(notice).to_contain_text("托育机构请您尽快联系")
    expect(notice).not_to_contain_text("38.6")
    screenshot(parent, "childhealth-guardian-notified")
