"""Complaints and mother-and-baby rooms in the PWA: an anonymous complaint with a photo followed by
its tracking code; a complaint written offline, queued and sent when the network returns; the rooms
map, its list and the open-now filter, and a room's details."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from backend.demo.data import DEMO_PASSWORD
from tests.imagedata import encode
from tests.pwa.conftest import SAERTU, screenshot, sign_in

CODE = re.compile(r"^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$")
CENTRE = "萨尔图区示范性婴幼儿照护服务中心"


def small_png(tmp_path: Path) -> Path:
    from PIL import Image

    image = Image.new("RGB", (64, 48), "orange")
    image.paste("navy", (0, 0, 32, 48))
    path = tmp_path / "photo.png"
    path.write_bytes(encode(image, "PNG"))
    return path


def choose_category(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("投诉类别").click()
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_label("投诉类别")).to_have_value(name)


def test_an_anonymous_complaint_with_a_photo_is_followed_by_its_code(new_context, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/complaints")
    page.get_by_role("button", name="我要投诉").click()
    expect(page).to_have_url(re.compile(r"/complaints/new$"))

    choose_category(page, "食品安全")
    # The institution: picked from the nearby list (the context is located in Saertu).
    page.get_by_label("被投诉机构").click()
    page.get_by_text(CENTRE, exact=True).first.click()
    expect(page.get_by_label("被投诉机构")).to_have_value(CENTRE)
    page.get_by_label("问题描述").fill("午餐的米饭没有煮熟，孩子吃了肚子疼。")
    page.locator('input[type="file"]').set_input_files(str(small_png(tmp_path)))
    expect(page.locator(".van-uploader__preview")).to_have_count(1)

    # Anonymous: no contact fields.
    expect(page.get_by_label("联系电话")).to_be_visible()
    page.get_by_role("switch", name="匿名提交").click()
    expect(page.get_by_role("switch", name="匿名提交")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_label("联系电话")).to_have_count(0)
    expect(page.get_by_label("联系人")).to_have_count(0)
    screenshot(page, "complaints-new")

    with page.expect_response(lambda r: r.url.endswith("/api/complaints") and r.request.method == "POST") as filed:
        page.get_by_role("button", name="提交投诉").click()
    assert filed.value.status == 201
    sent = filed.value.request
    assert "multipart/form-data" in sent.headers["content-type"]
    assert "cookie" not in {k.lower() for k in sent.headers}  # anonymous: no session travels

    expect(page.get_by_role("heading", name="投诉已提交")).to_be_visible()
    code = page.get_by_test_id("tracking-code").inner_text().strip()
    assert CODE.match(code), code
    expect(page.get_by_text("查询码只显示这一次")).to_be_visible()
    screenshot(page, "complaints-code")

    # Follow it: the code is handed over in history state, never in the URL.
    with page.expect_response(lambda r: r.url.endswith("/api/complaints/track")) as tracked:
        page.get_by_role("button", name="查看办理进度").click()
    assert tracked.value.request.post_data_json == {"tracking_code": code}
    assert code not in page.url
    expect(page.get_by_test_id("complaint-status")).to_have_text(re.compile("受理"))
    expect(page.get_by_text("已上传 1 张")).to_be_visible()
    expect(page.get_by_text(CENTRE, exact=True)).to_be_visible()

    # Typed by hand too (lower case, without dashes), and the code is in the device's list.
    page.goto("/complaints/track")
    expect(page.get_by_text(code)).to_be_visible()
    page.get_by_label("查询码").fill(code.replace("-", "").lower())
    with page.expect_response(lambda r: r.url.endswith("/api/complaints/track")):
        page.get_by_role("button", name="查询", exact=True).click()
    expect(page.get_by_test_id("complaint-status")).to_have_text("已受理登记")
    expect(page.get_by_text("食品安全", exact=True)).to_be_visible()
    screenshot(page, "complaints-track")

    # A demo complaint that an officer has accepted.
    page.get_by_label("查询码").fill("DEMOA-AAAAA-AAAAA-AAAAA")
    with page.expect_response(lambda r: r.url.endswith("/api/complaints/track")):
        page.get_by_role("button", name="查询", exact=True).click()
    expect(page.get_by_test_id("complaint-status")).to_have_text("已受理")


def test_a_complaint_written_offline_is_sent_when_the_network_returns(new_context) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/complaints")
    page.get_by_role("button", name="我要投诉").click()

    choose_category(page, "消防安全")
    page.get_by_role("radio", name="其他地点").click()
    expect(page.get_by_text(re.compile(r"已定位 46\.63"))).to_be_visible()  # located at once
    page.get_by_label("地点名称").fill("某小区内的看护点")
    page.get_by_label("问题描述").fill("安全出口被杂物堵住了。")

    ctx.set_offline(True)
    page.get_by_role("button", name="提交投诉").click()
    expect(page).to_have_url(re.compile(r"/complaints$"))
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("待发送")
    expect(item).to_contain_text("某小区内的看护点")
    expect(page.get_by_text("等待网络恢复")).to_be_visible()
    screenshot(page, "complaints-queued")

    # Back online: sent by itself, and its tracking code appears.
    with page.expect_response(lambda r: r.url.endswith("/api/complaints") and r.request.method == "POST") as filed:
        ctx.set_offline(False)
    assert filed.value.status == 201
    expect(item).to_contain_text("已发送")
    code = item.get_by_test_id("tracking-code").inner_text().strip()
    assert CODE.match(code) and code == filed.value.json()["tracking_code"]

    # It stays on the device: after a reload, the queue and the track screen's list still have it.
    page.reload()
    expect(page.get_by_test_id("queue-item")).to_contain_text(code)
    page.goto("/complaints/track")
    expect(page.get_by_text(code)).to_be_visible()


def test_a_signed_in_reporter_sees_progress_live_and_officers_go_to_their_desk(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "13800000002")
    page.goto("/complaints")
    page.get_by_role("button", name="我要投诉").click()
    choose_category(page, "其他")
    page.get_by_role("radio", name="其他地点").click()
    expect(page.get_by_text(re.compile(r"已定位 46\.63"))).to_be_visible()
    page.get_by_label("问题描述").fill("小区里的看护点没有公示收费标准。")
    expect(page.get_by_text("将关联您的账号")).to_be_visible()
    page.get_by_label("联系电话").fill("13800000002")
    with page.expect_response(lambda r: r.url.endswith("/api/complaints") and r.request.method == "POST") as filed:
        page.get_by_role("button", name="提交投诉").click()
    assert filed.value.status == 201
    complaint_id = filed.value.json()["id"]
    expect(page.get_by_test_id("tracking-code")).to_be_visible()

    # 我的投诉 lists it; its page follows it live.
    page.goto("/complaints/mine")
    page.get_by_text("其他").first.click()
    expect(page).to_have_url(re.compile(rf"/complaints/{complaint_id}$"))
    expect(page.get_by_text("小区里的看护点没有公示收费标准。")).to_be_visible()
    expect(page.get_by_test_id("complaint-status")).to_have_text("已受理登记")
    page.get_by_role("status", name="实时更新已连接").wait_for()

    officer = httpx.Client(base_url=e2e_server.base_url, timeout=15)
    r = officer.post("/api/auth/login", json={"login": "health.officer@daqing.example", "password": DEMO_PASSWORD})
    assert r.status_code in (200, 201), r.text
    officer.headers["Authorization"] = f"Bearer {r.json()['token']}"
    r = officer.post(
        f"/api/complaints/desk/{complaint_id}/transitions",
        json={"status": "accepted", "public_note": "已受理，将转属地卫健部门核查。", "expected_status": "received"},
    )
    assert r.status_code in (200, 201), r.text
    expect(page.get_by_test_id("complaint-status")).to_have_text("已受理")  # without reloading
    expect(page.get_by_text("已受理，将转属地卫健部门核查。")).to_be_visible()

    # A message's link opens the officer's desk for officers and city admins.
    desk = new_context().new_page()
    sign_in(desk, "city.admin@daqing.example")
    desk.goto(f"/complaints/{complaint_id}")
    expect(desk).to_have_url(re.compile(rf"/officer/complaints/{complaint_id}$"))


def test_the_rooms_map_lists_the_nearest_rooms_and_filters_them(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    near = {"lat": SAERTU["latitude"], "lng": SAERTU["longitude"], "radius_m": 5000, "limit": 30}
    everything = httpx.get(f"{e2e_server.base_url}/api/rooms/nearby", params=near).json()
    assert everything, "the demo data has rooms near Saertu"

    ctx = new_context()
    page = ctx.new_page()
    page.goto("/rooms")
    filters = page.get_by_role("toolbar", name="筛选")
    open_button = filters.get_by_role("button", name="营业中")
    items = page.get_by_test_id("room-item")
    expect(items.first).to_contain_text(everything[0]["name"])
    expect(items).to_have_count(len(everything))
    expect(items.first).to_contain_text(re.compile(r"\d+(\.\d)? (米|公里)"))
    # The map draws the rooms as markers (and the viewport adds the ones around).
    page.locator('.map[data-ready="true"]').wait_for()
    page.locator("path.dq-room-marker").first.wait_for()
    assert page.locator("path.dq-room-marker").count() >= len(everything)
    screenshot(page, "rooms-map")

    # 营业中: the list becomes the rooms open now (which ones depends on the hour of the run).
    open_now = httpx.get(f"{e2e_server.base_url}/api/rooms/nearby", params={**near, "open_now": "true"}).json()
    with page.expect_response(lambda r: "/api/rooms/nearby" in r.url and "open_now=true" in r.url):
        open_button.click()
    expect(open_button).to_have_attribute("aria-pressed", "true")
    if open_now:
        expect(items).to_have_count(len(open_now))
        expect(items.first).to_contain_text(open_now[0]["name"])
        for i in range(len(open_now)):
            expect(items.nth(i)).to_contain_text("营业中")
    else:
        expect(page.get_by_text("附近没有符合条件的母婴室")).to_be_visible()
    if len(open_now) != len(everything):
        assert len(open_now) < len(everything)

    # An amenity filter narrows it deterministically: rooms with a baby bed.
    open_button.click()
    expect(items).to_have_count(len(everything))
    with_bed = [r for r in everything if "baby_bed" in r["amenities"]]
    filters.get_by_role("button", name="设施").click()
    page.get_by_role("checkbox", name="婴儿床").click()
    with page.expect_response(lambda r: "/api/rooms/nearby" in r.url and "amenity=baby_bed" in r.url):
        page.get_by_role("button", name="确定").click()
    expect(items).to_have_count(len(with_bed))
    assert len(with_bed) < len(everything)

    # A room's details: facts, hours, amenities, ratings.
    items.first.click()
    expect(page).to_have_url(re.compile(r"/rooms/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name=with_bed[0]["name"])).to_be_visible()
    expect(page.get_by_text("开放时间")).to_be_visible()
    expect(page.get_by_text("婴儿床").first).to_be_visible()
    expect(page.get_by_test_id("open-state")).to_have_text(re.compile("营业中|已关闭"))
    expect(page.get_by_text("登录后评价")).to_be_visible()
    screenshot(page, "rooms-detail")


def test_the_screens_fit_a_narrow_phone(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport={"width": 360, "height": 780}).new_page()
    for path, ready in (
        ("/complaints", "我要投诉"),
        ("/complaints/new", "提交投诉"),
        ("/complaints/track", "查询"),
        ("/rooms", "营业中"),
    ):
        page.goto(path)
        page.get_by_role("button", name=ready).first.wait_for()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways ({width}px)"
