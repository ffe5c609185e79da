"""The PWA polish of issue 25 in the browser: errors in Chinese only (the machine code on a details
line), 退出其他设备 signing the other device out, and the care map when its tiles cannot load."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import screenshot, sign_in

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def test_an_error_toast_is_chinese_with_the_code_on_its_own_line(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    page.goto("/complaints/track")
    page.get_by_label("查询码").fill("AAAAA-BBBBB-CCCCC-DDDDD")
    with page.expect_response(lambda r: r.url.endswith("/api/complaints/track")) as answer:
        page.get_by_role("button", name="查询", exact=True).click()
    assert answer.value.status == 404
    code = answer.value.json()["code"]
    toast = page.locator(".van-toast__text")
    expect(toast).to_be_visible()
    sentence, details = toast.inner_text().split("\n")
    assert not LATIN_WORD.search(sentence), sentence  # no English in the sentence
    assert "（" not in sentence and "(" not in sentence
    assert details == f"错误代码：{code}"
    screenshot(page, "polish-error-toast")


def test_sign_out_other_devices_from_account_security(new_context) -> None:  # type: ignore[no-untyped-def]
    phone = new_context().new_page()
    tablet = new_context().new_page()
    for page in (phone, tablet):
        sign_in(page, "13800000002")
    assert tablet.request.get("/api/me").status == 200

    phone.goto("/me")
    phone.get_by_text("退出其他设备").first.click()
    dialog = phone.get_by_role("dialog")
    with phone.expect_response(lambda r: r.url.endswith("/api/auth/logout/others")) as answer:
        dialog.get_by_role("button", name="退出其他设备").click()
    assert answer.value.status == 200 and answer.value.json()["revoked"] >= 1
    expect(phone.locator(".van-toast__text")).to_have_text(re.compile(r"已退出其他 \d+ 台设备"))

    assert tablet.request.get("/api/me").status == 401  # the other device is signed out
    assert phone.request.get("/api/me").status == 200  # this one stays


def test_the_care_map_says_so_when_tiles_fail_and_keeps_markers_and_a_list(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    ctx.route(re.compile(r"autonavi\.com|openstreetmap\.org"), lambda route: route.abort())
    page = ctx.new_page()
    page.goto("/?view=map")
    expect(page.get_by_test_id("map-unavailable")).to_have_text("地图暂不可用，已显示列表")
    expect(page.get_by_role("list", name="搜索结果").get_by_role("link").first).to_be_visible()
    # The markers still work, and the legend and the zoom buttons are there, zoom at least 44 px.
    marker = page.locator(".care-map__marker").first
    marker.dispatch_event("click")
    expect(page.get_by_test_id("care-map-card").get_by_role("link")).to_be_visible()
    expect(page.get_by_role("list", name="图例")).to_contain_text("有空位")
    zoom = page.locator(".leaflet-control-zoom-in").bounding_box()
    assert zoom and zoom["width"] >= 44 and zoom["height"] >= 44
    # Leaflet's own attribution prefix is gone; the tile credit stays.
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).not_to_contain_text("Leaflet")
    expect(attribution).to_contain_text(re.compile("高德|OpenStreetMap"))
    screenshot(page, "polish-map-unavailable")


def test_favourites_are_kept_per_account_and_readable_offline(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "13800000002")
    page.goto("/favourites")  # once online (its screen is downloaded), empty for this account
    page.goto("/")
    first = page.get_by_role("list", name="搜索结果").get_by_role("listitem").first
    name = first.locator(".inst-card__name").inner_text().strip()
    star = first.get_by_test_id("favourite")
    expect(star).to_have_attribute("aria-pressed", "false")
    with page.expect_response(lambda r: "/api/me/favourites/" in r.url and r.request.method == "PUT") as put:
        star.click()
    assert put.value.status == 204
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_contain_text("已收藏")

    # 我的 → 我的收藏 lists it; offline, the saved copy still shows.
    page.locator(".van-tabbar-item").last.click()  # the 我的 tab
    page.get_by_text("我的收藏").click()
    expect(page.get_by_text(name)).to_be_visible()
    page.locator(".van-nav-bar__left").click()
    ctx.set_offline(True)
    page.get_by_text("我的收藏").click()
    expect(page.get_by_text(name)).to_be_visible()
    expect(page.get_by_text(re.compile("当前离线"))).to_be_visible()
    ctx.set_offline(False)

    # Another account does not see it.
    other = new_context().new_page()
    sign_in(other, "13800000001")
    assert all(i["name"] != name for i in other.request.get("/api/me/favourites").json()["items"])
