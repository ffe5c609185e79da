"""Account and notices screens in the browser: SMS-code and password sign-in, 我的, my children,
switching language, the notices list with unread badges, and answering a consultation."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import pick_date, screenshot, sign_in, sms_code

CONSULTATION = "【演示】下月食谱征求意见"
WELCOME = "【演示】欢迎加入本园家长群"


def notices_badge(page):  # type: ignore[no-untyped-def]
    """The unread count on the 通知 tab (a visual badge, so located by its class)."""
    return page.locator(".van-tabbar-item", has_text="通知").locator(".van-badge")


def test_parent_signs_in_with_an_sms_code_and_answers_a_consultation(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    page.goto("/login")
    expect(page.get_by_role("tab", name="验证码登录")).to_have_attribute("aria-selected", "true")
    page.get_by_label("手机号", exact=True).fill("13800000002")
    with page.expect_response(lambda r: r.url.endswith("/api/auth/code") and r.status == 202):
        page.get_by_role("button", name="获取验证码").click()
    # the button counts down before a new code may be asked for
    expect(page.get_by_role("button", name=re.compile(r"\d+ 秒后重发"))).to_be_disabled()
    page.get_by_label("验证码", exact=True).fill(sms_code(e2e_server, "13800000002"))
    screenshot(page, "account-login")
    page.get_by_role("button", name="登录", exact=True).click()

    # 我的: the account summary, with the unread notices on the 通知 tab
    page.wait_for_url("**/me")
    expect(page.get_by_role("heading", name="演示家长 李先生")).to_be_visible()
    expect(page.get_by_text("138****0002")).to_be_visible()
    expect(page.get_by_text("家长", exact=True)).to_be_visible()
    expect(notices_badge(page)).to_have_text("2")
    screenshot(page, "account-me")

    # 通知: by institution, unread marked, the pinned welcome first
    page.get_by_role("tab", name=re.compile("通知")).click()
    page.wait_for_url("**/notices")
    expect(page.get_by_text("2 条未读")).to_be_visible()
    titles = page.locator(".notices__title-text")
    expect(titles).to_have_text([WELCOME, CONSULTATION])
    screenshot(page, "notices-list")

    # Opening the consultation marks it read: the badge goes down.
    with page.expect_response(lambda r: r.url.endswith("/read") and r.request.method == "POST"):
        page.get_by_text(CONSULTATION).click()
    page.wait_for_url(re.compile(r"/notices/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name=CONSULTATION)).to_be_visible()
    expect(notices_badge(page)).to_have_text("1")

    # Answer: two breakfasts and a comment.
    expect(page.get_by_text("您希望增加哪类早餐？")).to_be_visible()
    page.get_by_role("checkbox", name="蒸蛋羹").click()
    page.get_by_role("checkbox", name="杂粮粥").click()
    page.get_by_label("您的意见").fill("希望少放糖")
    with page.expect_response(lambda r: r.url.endswith("/answer") and r.request.method == "PUT") as answered:
        page.get_by_role("button", name="提交意见").click()
    assert answered.value.status == 200, answered.value.text()
    assert answered.value.json()["choices"] == [0, 1]
    expect(page.get_by_text("您已提交意见")).to_be_visible()
    expect(page.get_by_text("杂粮粥、蒸蛋羹")).to_be_visible()
    # The demo parent chairs the parent committee, who see the results.
    expect(page.get_by_role("heading", name="征求结果")).to_be_visible()
    expect(page.get_by_text("希望少放糖").last).to_be_visible()
    screenshot(page, "notices-detail")

    # The answer can be changed until the deadline.
    page.get_by_role("button", name="修改意见").click()
    page.get_by_role("checkbox", name="杂粮粥").click()
    with page.expect_response(lambda r: r.url.endswith("/answer") and r.request.method == "PUT") as changed:
        page.get_by_role("button", name="修改意见").click()
    assert changed.value.json()["choices"] == [1]
    expect(page.get_by_text("意见已修改")).to_be_visible()

    # Back in the list the consultation is read; the welcome is still unread.
    page.get_by_role("tab", name=re.compile("通知")).click()
    page.wait_for_url("**/notices")
    expect(page.get_by_text("1 条未读")).to_be_visible()
    expect(notices_badge(page)).to_have_text("1")


def test_password_sign_in_children_and_sign_out(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    sign_in(page, "13800000001")
    page.wait_for_url("**/me")
    expect(page.get_by_role("heading", name="演示家长 王女士")).to_be_visible()

    # 我的孩子: the two demo children; add one, then remove it. The URL never carries a name.
    page.get_by_role("button", name="我的孩子").click()
    page.wait_for_url("**/me/children")
    expect(page.get_by_text("演示宝宝 小米")).to_be_visible()
    expect(page.get_by_text("演示宝宝 豆豆")).to_be_visible()
    page.get_by_role("button", name="添加孩子").click()
    page.get_by_label("姓名").fill("测试宝宝 甜甜")
    pick_date(page, "出生日期", "2025-06-01")
    page.get_by_role("radio", name="父亲").click()
    # Guardian consent (PIPL: under-14s' data is sensitive): required, with the notice one tap away.
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("请阅读说明并勾选同意，才能添加孩子")).to_be_visible()
    page.get_by_text("儿童个人信息说明（版本 2026-12）").click()
    expect(page.get_by_text("平台只保存孩子的姓名和出生日期", exact=False)).to_be_visible()
    page.get_by_role("checkbox", name="我是孩子的监护人", exact=False).click()
    with page.expect_response(lambda r: r.url.endswith("/api/me/children") and r.request.method == "POST") as added:
        page.get_by_role("button", name="保存").click()
    assert added.value.status == 201, added.value.text()
    assert added.value.request.post_data_json["consent"] == {"policy_version": "2026-12", "accepted": True}
    expect(page.locator(".van-cell__title", has_text="测试宝宝 甜甜")).to_be_visible()
    assert "甜甜" not in page.url
    page.get_by_text("测试宝宝 甜甜").click()
    page.get_by_role("button", name="删除").click()
    with page.expect_response(lambda r: "/api/me/children/" in r.url and r.request.method == "DELETE"):
        page.get_by_role("dialog").filter(has_text="确定删除").get_by_role("button", name="删除").click()
    expect(page.locator(".van-cell__title", has_text="测试宝宝 甜甜")).to_have_count(0)
    page.get_by_role("button", name="返回").click()
    page.wait_for_url("**/me")

    # 通知方式: the device's push state is shown; a category's channel switches off and stays off.
    page.get_by_role("button", name="通知方式").click()
    page.wait_for_url("**/me/notifications")
    expect(page.get_by_test_id("push-state")).to_have_text(re.compile("已拒绝|未开启|不支持"))
    switch = page.get_by_role("switch", name="机构通知 · 系统推送")
    expect(switch).to_have_attribute("aria-checked", "true")
    with page.expect_response(
        lambda r: r.url.endswith("/api/me/notification-preferences") and r.request.method == "PUT"
    ) as put:
        switch.click()
    assert put.value.status == 200, put.value.text()
    expect(switch).to_have_attribute("aria-checked", "false")
    page.reload()
    expect(page.get_by_role("switch", name="机构通知 · 系统推送")).to_have_attribute("aria-checked", "false")
    page.get_by_role("button", name="返回").click()
    page.wait_for_url("**/me")

    # Sign out: back to the signed-out 我的.
    page.get_by_role("button", name="退出登录").click()
    expect(
        page.get_by_role("link", name="登录 / 注册").or_(page.get_by_role("button", name="登录 / 注册"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="演示家长 王女士")).to_have_count(0)
    assert page.url.endswith("/me")
    screenshot(page, "account-signed-out")

    # A screen that needs signing in comes back after it (?next=, our own paths only).
    page.goto("/notices")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_role("tab", name="密码登录").click()
    page.get_by_label("手机号或邮箱").fill("13800000001")
    page.get_by_label("密码", exact=True).fill("wrong-password")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()  # the API's detail_zh, shown on the form
    page.get_by_label("密码", exact=True).fill("Daqing-demo-2026")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/notices")


def test_switching_to_english(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    page.goto("/me")
    expect(page.get_by_text("登录后可查看孩子")).to_be_visible()
    page.get_by_role("radio", name="English").click()
    expect(page.get_by_text("Sign in to see your children")).to_be_visible()
    expect(page.get_by_role("tab", name="Me")).to_be_visible()
    expect(page.get_by_role("tab", name="Notices")).to_be_visible()
    expect(page.get_by_role("radio", name="English")).to_have_attribute("aria-checked", "true")
    screenshot(page, "account-me-en")
    # The choice is kept on the device.
    page.reload()
    expect(page.get_by_text("Map tiles")).to_be_visible()
    page.get_by_role("radio", name="中文").click()
    expect(page.get_by_text("地图底图")).to_be_visible()
