"""找托育's compact filter bar (区域 | 类型 | 月龄 | 价格 | 筛选), cover photos and 分享 on the cards, and the
母婴室 map without tiles — in chromium at 390×844, against the demo data."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image
from playwright.sync_api import expect

from tests.pwa.conftest import PHONE, choose_filter, filter_button, screenshot, sign_in
from tests.pwa.test_a11y import settle, violations_of


def test_the_filter_bar_is_compact_sticky_keyboard_usable_and_keeps_every_filter(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=PHONE).new_page()
    page.goto("/")
    results = page.get_by_role("list", name="搜索结果")
    results.get_by_role("link").first.wait_for()

    # The search box and the bar together take a small part of the screen (the open block took 45 %).
    sticky = page.locator(".find-care__sticky").bounding_box()
    assert sticky and sticky["height"] <= 0.15 * PHONE["height"], sticky
    for category in ("区域", "类型", "月龄", "价格"):
        box = filter_button(page, category).bounding_box()
        assert box and box["height"] >= 44, (category, box)
    more = page.locator(".filter-bar").get_by_role("button", name="筛选")
    expect(more).to_be_visible()

    # 价格: a monthly cap narrows the list to places whose monthly fee is at most that.
    names = page.locator(".inst-card__name")
    before = set(names.all_inner_texts())
    filter_button(page, "价格").click()
    expect(page.get_by_role("menuitem", name=re.compile("^不限价格"))).to_be_focused()  # the panel has opened
    assert not violations_of(page), violations_of(page)  # the open price panel passes the audit
    with page.expect_response(lambda r: "/api/institutions/nearby" in r.url and "max_price=2000" in r.url) as hit:
        page.get_by_role("menuitem", name=re.compile(r"^月费2000元以下[\s\W]*$")).click()
    expect(page).to_have_url(re.compile(r"price=2000"))
    expect(filter_button(page, "价格", "≤2000元")).to_be_visible()
    # The choice fits its title at 390 px: one line, not cut off.
    title = page.locator(".filter-bar .van-dropdown-menu__title .van-ellipsis").filter(has_text="≤2000元")
    fits = "e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().height < 30"
    assert title.evaluate(fits), title.evaluate("e => [e.scrollWidth, e.clientWidth]")
    screenshot(page, "find-care-price-filter")
    items = hit.value.json()["items"]
    assert items, "the demo data has places under 2,000 yuan a month"
    for item in items:
        assert any(m["price_unit"] == "month" and m["price_fen"] <= 200_000 for m in item["modes"]), item["modes"]
    expect(names).to_have_count(len(items))
    after = set(names.all_inner_texts())
    assert after == {i["name"] for i in items}
    assert before - after, "some places of the unfiltered first page cost more"

    # Keyboard only: focus 类型, Enter opens it on the chosen option, ↓ ↓ ↓ reaches 计时托, Enter chooses.
    filter_button(page, "类型").focus()
    page.keyboard.press("Enter")
    # (The chosen option's name ends with Vant's check icon glyph.)
    expect(page.get_by_role("menuitem", name=re.compile("^全部"))).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name=re.compile("^计时托"))).to_be_focused()
    with page.expect_response(lambda r: "/api/institutions/nearby" in r.url and "mode=hourly" in r.url):
        page.keyboard.press("Enter")
    expect(filter_button(page, "类型", "计时托")).to_be_visible()
    # Hourly care is priced per hour: the monthly cap is let go rather than leaving nothing.
    expect(filter_button(page, "价格", "价格")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"price="))

    # Each filter of the old block, now in the bar, still lands in the URL (and the API query).
    choose_filter(page, "区域", "10公里内")
    expect(page).to_have_url(re.compile(r"radius=10000"))
    choose_filter(page, "月龄", "18个月")
    expect(page).to_have_url(re.compile(r"age=18"))
    expect(filter_button(page, "月龄", "18个月")).to_be_visible()
    with page.expect_response(lambda r: "/api/institutions/nearby" in r.url and "inclusive=true" in r.url):
        choose_filter(page, "价格", "普惠（政府限价）")
    expect(filter_button(page, "价格", "普惠")).to_be_visible()

    more.click()
    menu = page.get_by_test_id("grade-filter")
    expect(menu.get_by_role("menuitemradio", name="不限")).to_have_attribute("aria-checked", "true")
    expect(menu.get_by_role("menuitemradio", name="不限")).to_be_focused()  # the panel has opened
    # The open panel passes the audit too (menu roles, contrast, names).
    assert not violations_of(page), violations_of(page)
    screenshot(page, "find-care-filter-bar-open")
    page.get_by_role("menuitemcheckbox", name="只看有空位").click()
    expect(page).to_have_url(re.compile(r"vacancy=1"))
    page.get_by_role("menuitemcheckbox", name=re.compile("^只看已备案")).click()
    expect(page).to_have_url(re.compile(r"filed=0"))
    menu.get_by_role("menuitemradio", name="B 级及以上").click()
    expect(page).to_have_url(re.compile(r"grade=B"))
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(more).to_contain_text("3")  # three conditions under 筛选

    # The URL is the search: a reload shows the same choices in the bar.
    page.reload()
    results.or_(page.locator(".van-empty")).first.wait_for()
    expect(filter_button(page, "类型", "计时托")).to_be_visible()
    expect(filter_button(page, "区域", "10公里")).to_be_visible()
    expect(filter_button(page, "月龄", "18个月")).to_be_visible()
    # The bar stays at the top while the results scroll.
    page.mouse.wheel(0, 1500)
    page.wait_for_function("window.scrollY > 0 || document.scrollingElement.scrollTop > 0")
    top = filter_button(page, "类型").bounding_box()
    assert top and 0 <= top["y"] < 120, top


def _png(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 160, 200)).save(out, "PNG")
    return out.getvalue()


def test_staff_set_a_cover_photo_shown_on_the_cards_with_share(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    staff = new_context(viewport=PHONE).new_page()
    sign_in(staff, "inst.staff@daqing.example")
    staff.goto("/staff")
    staff.wait_for_url(re.compile(r"/staff/[0-9a-f-]{36}$"))
    institution_id = staff.url.rsplit("/", 1)[1]
    section = staff.get_by_test_id("cover-photo")
    expect(section).to_contain_text("还没有封面照片")
    with staff.expect_response(lambda r: r.url.endswith("/cover") and r.request.method == "PUT") as put:
        section.locator("input[type=file]").set_input_files(
            {"name": "cover.png", "mimeType": "image/png", "buffer": _png()}
        )
    assert put.value.status == 200, put.value.text()
    expect(section.get_by_test_id("cover-current")).to_be_visible()
    screenshot(staff, "staff-cover-photo")

    name = httpx.get(f"{e2e_server.base_url}/api/institutions/{institution_id}", timeout=15).json()["name"]
    ctx = new_context(viewport=PHONE)
    # Record what the system share sheet would be given (the Web Share API where present).
    ctx.add_init_script("navigator.share = (data) => { window.__shared = data; return Promise.resolve() }")
    page = ctx.new_page()
    page.goto("/?radius=20000")
    results = page.get_by_role("list", name="搜索结果")
    results.get_by_role("link").first.wait_for()
    card = results.locator("li").filter(has=page.locator(f'a[href="/institutions/{institution_id}"]')).first
    card.scroll_into_view_if_needed()
    cover = card.get_by_test_id("card-cover")
    expect(cover).to_have_attribute("loading", "lazy")
    expect(cover).to_have_attribute("width", "88")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=cover.element_handle())
    # Other institutions show the placeholder, sized the same.
    others = results.locator(".inst-card__photo--none")
    expect(others.first).to_be_visible()
    placeholder = others.first.bounding_box()
    assert placeholder and round(placeholder["width"]) == 88 and round(placeholder["height"]) == 66
    screenshot(page, "find-care-cards-cover")

    card.get_by_role("button", name=f"分享「{name}」").click()
    shared = page.wait_for_function("window.__shared").json_value()
    assert shared["title"] == name and shared["url"].endswith(f"/institutions/{institution_id}")
    assert not violations_of(page), violations_of(page)
    # The institution's page opens with it, named for screen readers.
    page.goto(f"/institutions/{institution_id}")
    expect(page.get_by_role("img", name=f"{name}的封面照片")).to_be_visible()

    # Removing the cover brings the placeholder back.
    with staff.expect_response(lambda r: r.url.endswith("/cover") and r.request.method == "PUT"):
        section.get_by_role("button", name="删除照片").click()
    expect(section).to_contain_text("还没有封面照片")
    page.goto("/?radius=20000")
    results.get_by_role("link").first.wait_for()
    expect(results.get_by_test_id("card-cover")).to_have_count(0)


def test_the_rooms_map_says_so_when_tiles_fail_and_keeps_markers_legend_and_list(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context(viewport=PHONE)
    ctx.route(re.compile(r"autonavi\.com|openstreetmap\.org"), lambda route: route.abort())
    page = ctx.new_page()
    page.goto("/rooms")
    expect(page.get_by_test_id("map-unavailable")).to_have_text("地图暂不可用，已显示列表")
    expect(page.get_by_test_id("room-item").first).to_be_visible()
    expect(page.get_by_role("list", name="图例")).to_contain_text("营业中")
    zoom = page.locator(".leaflet-control-zoom-in").bounding_box()
    assert zoom and zoom["width"] >= 44 and zoom["height"] >= 44
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).not_to_contain_text("Leaflet")
    # The markers still work: a tap shows the room's card, closed by a 44 px button.
    page.locator("path.dq-room-marker").first.dispatch_event("click")
    close = page.get_by_role("dialog").get_by_role("button", name="关闭")
    box = close.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44
    settle(page)
    assert not violations_of(page), violations_of(page)
    screenshot(page, "rooms-map-unavailable")
    close.click()
    expect(page.get_by_role("dialog")).to_be_hidden()
