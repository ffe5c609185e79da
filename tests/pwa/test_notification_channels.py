"""我的 → 通知方式 in the browser: what reaches this phone (push support, this device, WeChat's
browser, the masked phone for SMS, why SMS), and switching a channel off per category persists
(saved through the API, still off after a reload). The city admin's delivery counts per channel and
day in the officer console."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import screenshot, sign_in


def test_notification_channels_show_what_reaches_this_phone_and_choices_persist(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    sign_in(page, "13800000002")
    page.goto("/me")
    page.get_by_text("通知方式", exact=True).click()
    page.wait_for_url("**/me/notifications")

    # What reaches this phone.
    expect(page.get_by_text("这部手机能收到什么")).to_be_visible()
    expect(page.get_by_test_id("reach-phone")).to_have_text("138****0002")
    expect(page.get_by_test_id("reach-wechat")).to_have_text("否")  # not WeChat's built-in browser
    expect(page.get_by_test_id("reach-subscribed")).to_have_text("否")  # push not switched on here
    expect(page.get_by_test_id("reach-why")).to_contain_text("短信里不含孩子姓名")

    # SMS off for institution notices: saved, and still off after a reload; the others untouched.
    sms = page.get_by_role("switch", name="机构通知 · 短信（仅重要消息）")
    expect(sms).to_have_attribute("aria-checked", "true")
    with page.expect_response(
        lambda r: r.url.endswith("/api/me/notification-preferences") and r.request.method == "PUT"
    ) as saved:
        sms.click()
    assert saved.value.status == 200, saved.value.text()
    notices = next(p for p in saved.value.json()["preferences"] if p["category"] == "notices")
    assert notices["sms"] is False and notices["websocket"] is True
    expect(page.get_by_text("已保存")).to_be_visible()
    screenshot(page, "notification-channels")

    page.reload()
    expect(page.get_by_role("switch", name="机构通知 · 短信（仅重要消息）")).to_have_attribute("aria-checked", "false")
    expect(page.get_by_role("switch", name="预约 · 短信（仅重要消息）")).to_have_attribute("aria-checked", "true")

    # Back on, so the demo family is as it was.
    with page.expect_response(
        lambda r: r.url.endswith("/api/me/notification-preferences") and r.request.method == "PUT"
    ):
        page.get_by_role("switch", name="机构通知 · 短信（仅重要消息）").click()
    expect(page.get_by_role("switch", name="机构通知 · 短信（仅重要消息）")).to_have_attribute("aria-checked", "true")


def test_city_admin_sees_deliveries_per_channel_and_day(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    sign_in(page, "city.admin@daqing.example")
    page.goto("/officer")
    with page.expect_response(lambda r: "/api/admin/notification-stats" in r.url) as answered:
        page.get_by_test_id("officer-notification-stats").click()
    assert answered.value.status == 200, answered.value.text()
    page.wait_for_url("**/officer/notification-stats")
    expect(page.locator(".van-nav-bar__title")).to_have_text("通知送达统计")
    expect(page.get_by_test_id("sms-budget")).to_contain_text(re.compile(r"\d+ / \d+ 条"))
    counts = answered.value.json()["counts"]
    if counts:  # whatever the demo world delivered: grouped by day, each channel named in Chinese
        expect(page.get_by_test_id("stats-day").first).to_contain_text("年")
    else:
        expect(page.get_by_text("这段时间没有通知记录")).to_be_visible()
    screenshot(page, "notification-stats")
