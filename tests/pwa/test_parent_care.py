"""A parent finds hourly care near them, books a slot for a child and follows the booking, also offline."""

from __future__ import annotations

import re
from urllib.parse import unquote

from playwright.sync_api import expect

from tests.pwa.conftest import choose_filter, filter_button, screenshot, sign_in, wait_for_service_worker

PARENT = "13800000001"
# The demo parent's older child (about 26 months: the 托大 band hourly slots are published for). The
# younger one (about 10 months) is in the infant band, for which the demo data publishes no slots.
CHILD = "演示宝宝 豆豆"
CHILD_BAND = "older_toddler"


def find_and_book_hourly(page) -> str:  # type: ignore[no-untyped-def]
    """From 找托育, signed in as a parent: locate, filter to 计时托, open the nearest institution, book
    the first free hourly slot for 豆豆 and land on the booking. Returns the institution's name."""
    page.goto("/")
    results = page.get_by_role("list", name="搜索结果")
    results.get_by_role("link").first.wait_for()

    # 定位: the context's geolocation is in Saertu; the search follows it.
    with page.expect_response(lambda r: "/api/institutions/nearby" in r.url and "lat=46.63" in r.url):
        page.get_by_role("button", name="定位").click()
    expect(page.get_by_text("已按您的位置搜索")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, "care-search")

    with page.expect_response(lambda r: "/api/institutions/nearby" in r.url and "mode=hourly" in r.url):
        choose_filter(page, "类型", "计时托")
    expect(page).to_have_url(re.compile(r"mode=hourly"))
    expect(filter_button(page, "类型", "计时托")).to_be_visible()
    results.get_by_role("link").first.wait_for()

    # The same results on the map (Leaflet loads now), then back to the list.
    page.get_by_role("tab", name="地图").click()
    marker = page.locator(".care-map__marker").first
    marker.wait_for()
    marker.dispatch_event("click")  # a tap on a dot shows its institution, with a link to it
    expect(page.get_by_test_id("care-map-card").get_by_role("link")).to_be_visible()
    screenshot(page, "care-map")
    page.get_by_role("tab", name="列表").click()

    results.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/institutions/[0-9a-f-]{36}$"))
    heading = page.get_by_role("heading", level=1)
    heading.wait_for()
    name = heading.inner_text().strip()
    expect(page.get_by_text("计时托").first).to_be_visible()
    screenshot(page, "care-institution")

    page.get_by_role("button", name="预约计时托/临时托").click()
    page.wait_for_url(re.compile(r"/institutions/[0-9a-f-]{36}/book$"))
    hourly = page.get_by_role("radio", name=re.compile("^计时托"))
    if hourly.count():  # the institution offers temporary care too
        hourly.click()
    page.get_by_role("radio", name=re.compile(CHILD)).click()

    # The first day from tomorrow with a free slot (from tomorrow, so the booking is never inside the
    # two-hour cancellation cut-off this test relies on).
    days = page.get_by_role("group", name="日期").get_by_role("button")
    slots = page.get_by_role("group", name="可预约时段").locator("button:not([disabled])")
    for i in range(1, days.count()):
        day = days.nth(i).get_attribute("data-day")
        days.nth(i).click()
        page.locator(f'[data-loaded="{day}|{CHILD_BAND}"]').wait_for()
        if slots.count():
            break
    else:
        raise AssertionError(f"no free hourly slot at {name} in the next two weeks")
    slots.first.click()
    expect(slots.first).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text(re.compile("预计费用"))).to_be_visible()
    screenshot(page, "care-book")

    page.get_by_role("button", name="确认预约").click()
    page.wait_for_url(re.compile(r"/bookings/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("booking-status")).to_have_text("已预约")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    return name


def test_a_parent_books_hourly_care_and_sees_it_offline(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, PARENT)
    name = find_and_book_hourly(page)
    booking_path = page.url.removeprefix(page.url.split("/bookings/")[0])

    # The search comes back as it was left (the filters survive leaving 找托育); 我的预约 lists the booking.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"mode=hourly"))
    expect(filter_button(page, "类型", "计时托")).to_be_visible()
    page.get_by_role("link", name="我的预约").click()
    page.wait_for_url(re.compile(r"/bookings$"))
    row = page.get_by_role("list", name="我的预约").get_by_role("link").filter(has_text=name)
    expect(row).to_contain_text("已预约")
    expect(row).to_contain_text(CHILD)
    screenshot(page, "care-bookings")

    # Offline, the list is still there (the last answer kept on the device), marked as saved earlier.
    wait_for_service_worker(page)
    ctx.set_offline(True)
    page.goto("/bookings")
    expect(page.get_by_text("当前离线，显示的是上次保存的内容", exact=False)).to_be_visible()
    expect(page.get_by_role("list", name="我的预约").get_by_role("link").filter(has_text=name)).to_contain_text(
        "已预约"
    )
    screenshot(page, "care-bookings-offline")
    ctx.set_offline(False)

    # Live: cancelled elsewhere (here: straight through the API), the open booking changes without a reload.
    page.goto(booking_path)
    status = page.get_by_test_id("booking-status")
    expect(status).to_have_text("已预约")
    csrf = next(c["value"] for c in ctx.cookies() if c["name"] == "dq_csrf")
    answer = page.request.post(
        f"/api/{booking_path.strip('/')}/cancel", data={"reason": "临时有事"}, headers={"X-CSRF-Token": csrf}
    )
    assert answer.ok, answer.text()
    expect(status).to_have_text("已取消")
    expect(page.get_by_text("临时有事")).to_be_visible()  # the history and reason, fetched after the event
    screenshot(page, "care-booking-live")


def test_signed_out_visitors_sign_in_to_apply_and_staff_leave_parent_links(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    # Signed out, the search and an institution are open to all; applying asks to sign in first.
    page.goto("/?mode=full_day")
    page.get_by_role("list", name="搜索结果").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/institutions/[0-9a-f-]{36}$"))
    institution = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="申请入托").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    assert unquote(page.url).endswith(f"/login?next=/institutions/{institution}/apply")

    # Staff (not parents) following a live or push link to a booking or application go to their desk.
    sign_in(page, "inst.staff@daqing.example")
    page.goto(f"/institutions/{institution}/apply")  # not a parent: no application form
    expect(page).to_have_url(re.compile(rf"/institutions/{institution}$"))
    for path in (
        "/bookings/00000000-0000-4000-8000-000000000000",
        "/applications/00000000-0000-4000-8000-000000000000",
    ):
        page.goto(path)
        page.wait_for_url(re.compile(r"/staff"))


def test_a_parent_applies_for_a_place_and_withdraws(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "13800000002")  # the other demo family: one child, about 18 months old
    page.goto("/?mode=full_day&age=19&vacancy=1&radius=10000")
    page.get_by_role("list", name="搜索结果").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/institutions/[0-9a-f-]{36}$"))
    name = page.get_by_role("heading", level=1).inner_text().strip()
    page.get_by_role("button", name="申请入托").click()
    page.wait_for_url(re.compile(r"/apply$"))
    page.get_by_role("radio", name=re.compile("演示宝宝 乐乐")).wait_for()
    expect(page.get_by_role("radio", name=re.compile("演示宝宝 乐乐"))).to_have_attribute("aria-checked", "true")
    expect(page.get_by_text(re.compile(r"入托时 \d+ 个月"))).to_be_visible()
    screenshot(page, "care-apply")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/applications/[0-9a-f-]{36}$"))
    expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="已提交")).to_be_visible()
    screenshot(page, "care-application")

    page.get_by_role("button", name="撤回申请").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("撤回原因").fill("已找到离家更近的托育机构")
    dialog.get_by_role("button", name="撤回申请").click()
    expect(page.get_by_role("status").filter(has_text="已撤回")).to_be_visible()
    expect(page.get_by_role("button", name="撤回申请")).to_have_count(0)

    page.goto("/applications")
    expect(page.get_by_role("list", name="我的申请").get_by_role("link").filter(has_text=name)).to_contain_text(
        "已撤回"
    )
