"""The screenshot gallery of the main journeys at 390×844 (docs/screenshots.md): written to
var/screenshots/gallery/ at 1× so they stay small. Each step also asserts what it shows, so a broken
journey fails here rather than producing a misleading picture."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from backend.core.config import REPO_ROOT
from tests.pwa.conftest import PHONE, filter_button, sign_in

GALLERY = REPO_ROOT / "var" / "screenshots" / "gallery"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    GALLERY.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(GALLERY / f"{name}.png"), full_page=False)


def test_gallery_of_the_main_journeys(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=PHONE, device_scale_factor=1).new_page()

    # 找托育: located on open (the permission is granted), the name search, the results.
    page.goto("/")
    expect(page.get_by_text("已按您的位置搜索")).to_be_visible()
    results = page.get_by_role("list", name="搜索结果")
    results.get_by_role("link").first.wait_for()
    shot(page, "1-find-care")

    # The compact filter bar (区域 | 类型 | 月龄 | 价格 | 筛选), one panel open; cards with 分享 and 收藏.
    filter_button(page, "类型").click()
    expect(page.get_by_role("menuitem", name=re.compile("^计时托"))).to_be_visible()
    shot(page, "7-filter-bar")
    filter_button(page, "类型").click()
    expect(page.get_by_role("menuitem", name=re.compile("^计时托"))).to_be_hidden()

    # The map: a tapped marker's card floats above the tab bar, in sight.
    page.get_by_role("tab", name="地图").click()
    marker = page.locator(".care-map__marker").first
    marker.wait_for()
    marker.dispatch_event("click")
    card = page.get_by_test_id("care-map-card")
    expect(card).to_be_visible()
    box = card.bounding_box()
    tabbar = page.locator(".van-tabbar").bounding_box()
    assert box and tabbar and box["y"] + box["height"] <= tabbar["y"] + 1, "the card is under the tab bar"
    shot(page, "2-care-map")
    page.get_by_role("tab", name="列表").click()

    # An institution: the action bar is on screen on arrival.
    sign_in(page, "13800000001")
    page.goto("/?mode=hourly")
    page.get_by_role("list", name="搜索结果").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/institutions/[0-9a-f-]{36}$"))
    bar = page.get_by_test_id("inst-actions")
    expect(bar.get_by_role("link", name="电话咨询")).to_be_in_viewport()
    expect(bar.get_by_role("button", name="预约计时托/临时托")).to_be_in_viewport()
    shot(page, "3-institution")

    # Booking: the day and the slots.
    bar.get_by_role("button", name="预约计时托/临时托").click()
    page.wait_for_url(re.compile(r"/book$"))
    page.locator(".page-state__loading").first.wait_for(state="detached")
    shot(page, "4-book")

    # A complaint: one label per field, no repeated headings.
    page.goto("/complaints/new")
    expect(page.get_by_text("投诉类别")).to_have_count(1)
    shot(page, "5-complaint")

    # 我的: text size and 账号安全.
    page.goto("/me")
    expect(page.get_by_text("退出其他设备").first).to_be_visible()
    sizes = page.get_by_role("radiogroup", name="字体大小").get_by_role("radio")
    expect(sizes).to_have_count(3)  # 标准 / 大 / 特大
    sizes.nth(1).click()
    expect(page.locator("html")).to_have_class(re.compile("dq-text-large"))
    page.get_by_text("字体大小", exact=True).scroll_into_view_if_needed()
    shot(page, "6-me-large-text")
    sizes.nth(0).click()
    expect(page.locator("html")).not_to_have_class(re.compile("dq-text-large"))

    # 母婴室: the map with its legend, the nearest rooms under it.
    page.goto("/rooms")
    page.locator('.map[data-ready="true"]').wait_for()
    expect(page.get_by_role("list", name="图例")).to_contain_text("营业中")
    expect(page.get_by_test_id("room-item").first).to_be_visible()
    shot(page, "8-rooms-map")
