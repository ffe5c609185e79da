"""Parenting guidance in the app: a parent finds a demo event from 我的, registers for it with one of
their children, sees it under 我的报名 and cancels; the demo institution's staff see their events in
the console's 育儿指导 tab with the registration; nothing scrolls sideways at 360 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import screenshot, sign_in

PARENT = "13800000002"  # 演示家长 李先生, child 演示宝宝 乐乐
CHILD = "演示宝宝 乐乐"
STAFF = "inst.staff@daqing.example"
EVENT = "亲子绘本共读会"  # demo event of 230602-0, 12 places


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_parent_registers_for_a_demo_event_and_staff_see_it(new_context) -> None:  # type: ignore[no-untyped-def]
    parent = new_context(viewport={"width": 360, "height": 780}).new_page()
    sign_in(parent, PARENT)
    parent.goto("/me")
    parent.get_by_text("育儿指导活动").click()
    parent.wait_for_url(re.compile(r"/guidance$"))
    events = parent.get_by_role("list", name="育儿指导")
    expect(events.get_by_text(EVENT)).to_be_visible()
    no_sideways_scroll(parent)
    screenshot(parent, "guidance-list")

    events.get_by_role("link").filter(has_text=EVENT).first.click()
    parent.wait_for_url(re.compile(r"/guidance/[0-9a-f-]{36}$"))
    expect(parent.get_by_test_id("guidance-places")).to_have_text(re.compile(r"余 \d+ 个名额"))
    parent.get_by_role("radio", name=CHILD).click()
    with parent.expect_response(lambda r: r.url.endswith("/registrations") and r.request.method == "POST") as resp:
        parent.get_by_test_id("guidance-register").click()
    assert resp.value.status == 201, resp.value.text()
    assert resp.value.request.headers.get("idempotency-key")
    expect(parent.get_by_test_id("guidance-registered")).to_be_visible()
    no_sideways_scroll(parent)
    screenshot(parent, "guidance-registered")

    parent.goto("/guidance/registrations")
    row = parent.get_by_role("list", name="我的报名").get_by_role("listitem").filter(has_text=EVENT)
    expect(row.get_by_test_id("guidance-reg-status")).to_have_text("已报名")
    expect(row).to_contain_text(CHILD)

    staff = new_context().new_page()
    sign_in(staff, STAFF)
    institution_id = staff.request.get("/api/me").json()["roles"][0]["institution_id"]
    staff.goto(f"/staff/{institution_id}")
    staff.get_by_role("tab", name="育儿指导").click()
    staff.wait_for_url(re.compile(rf"/staff/{institution_id}/guidance$"))
    staff.get_by_role("link").filter(has_text=EVENT).first.click()
    staff.wait_for_url(re.compile(r"/guidance/host/[0-9a-f-]{36}$"))
    expect(staff.get_by_text(CHILD, exact=False)).to_be_visible()
    expect(staff.get_by_text("活动开始后可登记出勤")).to_be_visible()
    screenshot(staff, "guidance-staff-registrations")

    # The parent cancels; the place goes back.
    with parent.expect_response(lambda r: r.url.endswith("/cancel") and r.request.method == "POST") as resp:
        row.get_by_role("button", name="取消报名").click()
        parent.get_by_role("button", name="确认").click()
    assert resp.value.status == 200, resp.value.text()
    expect(row.get_by_test_id("guidance-reg-status")).to_have_text("已取消")
