"""The staff's and officers' health screens end to end (issue 21), in Chromium on a phone:

* staff go from the desk's class card (晨午检) to a consented child's health record, record a
  measurement far below the reference, see the z-scores and that a follow-up opened, then close the
  follow-up on 健康随访; the entry-check, vaccination and setting screens are audited too;
* three children of a class with a rash raise a cluster alert; a health officer finds it from the
  console (counts only), states a reason and reads the checks behind it — and the audit log has the
  reason.

Every screen passes the axe audit (no serious or critical violation)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_a11y import settle, violations_of

STAFF = "inst.staff@daqing.example"
ADMIN = "inst.admin@daqing.example"
PARENT = "13800000001"
HEALTH_OFFICER = "health.officer@daqing.example"
CITY_ADMIN = "city.admin@daqing.example"


def csrf(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"X-CSRF-Token": next(c["value"] for c in page.context.cookies() if c["name"] == "dq_csrf")}


def audited(page) -> None:  # type: ignore[no-untyped-def]
    settle(page)
    assert violations_of(page) == []


def test_staff_record_a_measurement_and_close_the_follow_up(new_context) -> None:  # type: ignore[no-untyped-def]
    staff = new_context().new_page()
    sign_in(staff, STAFF)
    institution_id = staff.request.get("/api/me").json()["roles"][0]["institution_id"]

    # The guardian consents to growth records (the chart screen does this; tests/pwa/test_childhealth.py).
    parent = new_context().new_page()
    sign_in(parent, PARENT)
    application = next(
        a
        for a in parent.request.get("/api/applications").json()
        if a["institution_id"] == institution_id and a["status"] == "enrolled"
    )
    child_id, name = application["child_id"], application["child_name"]
    r = parent.request.put(
        f"/api/me/children/{child_id}/health-profile",
        data={"sex": "female", "consent": {"policy_version": "2026-12", "accepted": True}},
        headers=csrf(parent),
    )
    assert r.ok, r.text()

    # Desk → the class's 晨午检 → the child's health record.
    staff.goto(f"/staff/{institution_id}")
    card = staff.locator(".desk-class").filter(has_text=application["class_name"]).first
    card.get_by_role("button", name="晨午检").click()
    staff.wait_for_url(re.compile(r"/health/classes/[0-9a-f-]{36}/checks$"))
    staff.get_by_role("link", name=f"健康档案：{name}").click()
    staff.wait_for_url(re.compile(rf"/health/children/{child_id}$"))
    expect(staff.locator(".van-nav-bar__title")).to_have_text(f"{name}的健康档案")
    assert name not in staff.url
    audited(staff)

    staff.get_by_label("身长/身高（厘米）").fill("80")
    staff.get_by_label("体重（千克）").fill("5")
    staff.get_by_role("button", name="保存测量").click()
    result = staff.get_by_test_id("growth-result")
    expect(result).to_contain_text("低于参考范围")
    expect(staff.get_by_test_id("growth-follow-up")).to_contain_text("已开启随访事项")
    expect(result).to_contain_text("wfa_low")  # the machine code, on the details line
    screenshot(staff, "childhealth-staff-measurement")
    audited(staff)

    # The entry check and the vaccination check tabs.
    staff.get_by_role("tab", name="入托体检").click()
    staff.get_by_label("体检医院").fill("大庆市妇幼保健院")
    staff.get_by_role("button", name="保存入托体检").click()
    expect(staff.get_by_test_id("entry-check").first).to_contain_text("大庆市妇幼保健院")
    audited(staff)
    staff.get_by_role("tab", name="预防接种").click()
    staff.get_by_role("radio", name="已按程序完成接种").click()
    staff.get_by_role("button", name="保存接种查验").click()
    expect(staff.get_by_test_id("vaccination-check").first).to_contain_text("已按程序完成接种")
    audited(staff)

    # 健康随访 from the desk: the open item for the child, closed with a confirmation.
    staff.goto(f"/staff/{institution_id}")
    staff.get_by_test_id("desk-follow-ups").click()
    staff.wait_for_url(re.compile(r"/health/follow-ups$"))
    items = staff.get_by_test_id("follow-up").filter(has_text=name)
    expect(items.first).to_contain_text("生长监测")
    open_before = items.count()
    audited(staff)
    items.first.get_by_role("button", name=f"关闭随访：{name}").click()
    staff.locator(".van-dialog").get_by_role("button", name="关闭").click()
    expect(items).to_have_count(open_before - 1)
    closed = staff.request.get("/api/childhealth/follow-ups", params={"status": "closed"}).json()
    assert any(i["child_id"] == child_id and i["kind"] == "growth" for i in closed)
    staff.get_by_role("tab", name="已关闭").click()
    expect(staff.get_by_test_id("follow-up").filter(has_text=name).first).to_contain_text("已关闭")
    audited(staff)


def test_the_admin_sets_the_entry_check_rule(new_context) -> None:  # type: ignore[no-untyped-def]
    admin = new_context().new_page()
    sign_in(admin, ADMIN)
    institution_id = admin.request.get("/api/me").json()["roles"][0]["institution_id"]
    admin.goto(f"/staff/{institution_id}")
    admin.get_by_test_id("desk-health-setting").click()
    admin.wait_for_url(re.compile(rf"/health/institutions/{institution_id}/settings$"))
    audited(admin)
    admin.get_by_role("radio", name="先入托，限期补交").click()
    admin.get_by_label("补交期限（天）").fill("14")
    admin.get_by_role("button", name="保存设置").click()
    expect(admin.get_by_text("已保存设置")).to_be_visible()
    setting = admin.request.get(f"/api/childhealth/institutions/{institution_id}/settings").json()
    assert setting["entry_check_policy"] == "grace" and setting["grace_days"] == 14
    expect(admin.locator(".van-toast")).to_be_hidden()  # the audit looks at the screen, not a fading toast
    audited(admin)


def place_children(parent, staff, application: dict, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` more children of the parent, of the enrolled child's age, holding a place (accepted) in
    its class — through the app's own flow: add the child, apply, the institution offers, the parent accepts."""
    birth = next(c for c in parent.request.get("/api/me/children").json() if c["id"] == application["child_id"])[
        "birth_date"
    ]
    today = staff.evaluate("new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)")  # Beijing date
    for i in range(n):
        r = parent.request.post(
            "/api/me/children",
            data={
                "name": f"聚集测试 宝宝{i + 1}",
                "birth_date": birth,
                "relation": "mother",
                "consent": {"policy_version": "2026-12", "accepted": True},
            },
            headers=csrf(parent),
        )
        assert r.status == 201, r.text()
        r = parent.request.post(
            "/api/applications",
            data={
                "child_id": r.json()["id"],
                "institution_id": application["institution_id"],
                "mode": "full_day",
                "start_date": today,
                "class_id": application["class_id"],
            },
            headers=csrf(parent),
        )
        assert r.status == 201, r.text()
        app_id = r.json()["id"]
        r = staff.request.post(
            f"/api/institutions/{application['institution_id']}/applications/{app_id}/offer", headers=csrf(staff)
        )
        assert r.ok, r.text()
        r = parent.request.post(f"/api/applications/{app_id}/accept", headers=csrf(parent))
        assert r.ok, r.text()


def test_an_officer_opens_a_cluster_alert_with_a_reason(new_context) -> None:  # type: ignore[no-untyped-def]
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
    # Three children of the class have a rash today (the demo class has one or two: two more join).
    place_children(parent, staff, application, 2)
    screen = staff.request.get(f"/api/childhealth/classes/{application['class_id']}/checks").json()
    assert len(screen["children"]) >= 3
    raised = []
    for child in screen["children"][:3]:
        r = staff.request.post(
            f"/api/childhealth/classes/{screen['class_id']}/checks",
            data={"child_id": child["child_id"], "well": False, "symptoms": ["rash"]},
            headers=csrf(staff),
        )
        assert r.status == 201, r.text()
        raised += r.json()["cluster_alert_ids"]
    [alert_id] = raised

    officer = new_context().new_page()
    sign_in(officer, HEALTH_OFFICER)
    officer.goto("/officer")
    officer.get_by_test_id("officer-health-clusters").click()
    officer.wait_for_url(re.compile(r"/health/clusters$"))
    alert = officer.get_by_test_id("cluster-alert").filter(has_text=screen["class_name"]).filter(has_text="皮疹")
    expect(alert).to_contain_text("3 名幼儿")
    for child in screen["children"][:3]:
        expect(officer.locator("body")).not_to_contain_text(child["name"])  # counts only
    audited(officer)

    alert.get_by_role("button", name=re.compile("^查看明细")).click()
    officer.wait_for_url(re.compile(rf"/health/clusters/{alert_id}$"))
    audited(officer)
    officer.get_by_role("button", name="说明理由并查看").click()
    expect(officer.get_by_text("请填写至少4个字的理由")).to_be_visible()  # no reason: nothing is read
    reason = "核实班级皮疹聚集情况，指导机构处置"
    officer.get_by_label("查看理由").fill(reason)
    officer.get_by_role("button", name="说明理由并查看").click()
    checks = officer.get_by_test_id("cluster-checks")
    for child in screen["children"][:3]:
        expect(checks).to_contain_text(child["name"])
    expect(checks).to_contain_text("皮疹")
    screenshot(officer, "childhealth-officer-cluster-access")
    audited(officer)

    # The reason and the children read are in the audit log (the city admin reads it).
    city = new_context().new_page()
    sign_in(city, CITY_ADMIN)
    child_id = screen["children"][0]["child_id"]
    entries = city.request.get(
        "/api/audit", params={"child_id": child_id, "action": "childhealth.cluster_access"}
    ).json()
    rows = entries["items"] if isinstance(entries, dict) else entries
    assert any(reason in str(e) for e in rows), rows
