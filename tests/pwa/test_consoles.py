"""The staff and officer consoles in a real browser: the staff's day of bookings updates live when a
parent books (no reload), a notice can be composed and posted, and the market officer moves the demo
food-safety complaint on with a public note."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import httpx

from backend.demo.data import DEMO_PASSWORD
from tests.pwa.conftest import screenshot, sign_in

STAFF = "inst.staff@daqing.example"
PARENT = "13800000002"  # one child (演示宝宝 乐乐, about 18 months: the toddler band)
OFFICER = "market.officer@daqing.example"
NARROW = {"width": 360, "height": 780}


def _console_sign_in(page, login: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the app's own form (tests/pwa/conftest.py `sign_in`)."""
    sign_in(page, login)


def _no_horizontal_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px)"


def _api_login(base_url: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=15)
    r = client.post("/api/auth/login", json={"login": login, "password": DEMO_PASSWORD})
    assert r.status_code in (200, 201), r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return client


def _slot_day(client: httpx.Client, institution_id: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    """The first coming day (from tomorrow) with a free toddler slot at the institution, and that slot."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    for offset in range(1, 14):
        day = (today + dt.timedelta(days=offset)).isoformat()
        r = client.get(f"/api/institutions/{institution_id}/slots", params={"day": day, "band": "toddler"})
        assert r.status_code == 200, r.text
        free = [s for s in r.json()["slots"] if s["free"] > 0]
        if free:
            return day, free[0]
    raise AssertionError("the demo institution has no free hourly slot in the next two weeks")


def staff_sees_new_booking(page, institution_id: str, day: str, book: Callable[[], str]) -> None:  # type: ignore[no-untyped-def]
    """With the staff's bookings of `day` open and the live socket connected, `book()` makes a booking
    (however it likes: httpx here, a parent's browser later) and returns the child's name; the row
    must appear without the page reloading."""
    page.goto(f"/staff/{institution_id}/bookings?day={day}")
    page.get_by_role("status", name="实时更新已连接").wait_for()
    page.locator(".page-state__loading").wait_for(state="detached")
    page.evaluate("window.__consoleMarker = 'same page'")
    rows = page.get_by_test_id("booking-row")
    before = rows.count()

    child = book()

    row = rows.filter(has_text=child).first
    row.wait_for()
    assert rows.count() == before + 1
    assert page.evaluate("window.__consoleMarker") == "same page", "the page reloaded"
    assert row.get_by_role("button", name="到园").is_visible()


def test_staff_console_desk_live_bookings_and_notice(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    page.set_viewport_size(NARROW)
    _console_sign_in(page, STAFF)
    institution_id = page.request.get("/api/me").json()["roles"][0]["institution_id"]

    # The desk: classes with occupancy and carer ratios, waitlists, today's slots.
    page.goto("/staff")
    page.wait_for_url(re.compile(rf"/staff/{institution_id}$"))
    page.get_by_text("萨尔图区示范性婴幼儿照护服务中心").wait_for()
    page.get_by_text("托小一班").wait_for()
    assert page.get_by_text(re.compile(r"保育人员 \d+ 人")).first.is_visible()
    page.get_by_role("status", name="实时更新已连接").wait_for()
    _no_horizontal_scroll(page)
    screenshot(page, "staff-desk")

    # The applications queue opens from the console's sections.
    page.get_by_role("tab", name="入托申请").click()
    page.wait_for_url(re.compile(r"/applications"))
    page.get_by_test_id("application").first.wait_for()
    assert page.get_by_role("button", name="结束托育").first.is_visible()  # enrolled demo children
    _no_horizontal_scroll(page)
    screenshot(page, "staff-applications")

    # A parent books a free slot; the staff's list of that day shows it live.
    parent = _api_login(e2e_server.base_url, PARENT)
    day, slot = _slot_day(parent, institution_id)
    child = parent.get("/api/me/children").json()[0]

    def book() -> str:
        r = parent.post(
            "/api/bookings",
            json={
                "child_id": child["id"],
                "institution_id": institution_id,
                "mode": "hourly",
                "day": day,
                "start": slot["start"],
                "end": slot["end"],
            },
        )
        assert r.status_code == 201, r.text
        return child["name"]

    staff_sees_new_booking(page, institution_id, day, book)
    _no_horizontal_scroll(page)
    screenshot(page, "staff-bookings-live")

    # Compose a notice with a consultation and post it; it heads the institution's list.
    page.goto(f"/staff/{institution_id}/notices/new")
    page.get_by_label("标题", exact=True).fill("【测试】本周五开放日")
    page.get_by_label("正文", exact=True).fill("欢迎各位家长参加开放日活动。")
    page.get_by_role("switch", name="征求意见").click()
    page.get_by_label("问题").fill("您能参加吗？")
    page.get_by_label("选项 1").fill("能参加")
    page.get_by_label("选项 2").fill("不能参加")
    _no_horizontal_scroll(page)
    screenshot(page, "staff-notice-new")
    page.get_by_role("button", name="发布").click()
    page.wait_for_url(re.compile(rf"/staff/{institution_id}/notices$"))
    page.get_by_text("【测试】本周五开放日").click()
    page.get_by_text("阅读情况").wait_for()
    page.get_by_text(re.compile(r"已读 \d+/\d+")).first.wait_for()
    page.get_by_text("征求意见结果").wait_for()

    # The accepted demo complaint about the institution, read-only.
    page.get_by_role("tab", name="投诉").click()
    page.get_by_text("食品安全").first.click()
    page.wait_for_url(re.compile(r"/staff/complaints/[0-9a-f-]{36}$"))
    page.get_by_text("午餐送到时已经凉了").wait_for()
    parent.close()


def test_officer_moves_the_demo_food_safety_complaint(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    _console_sign_in(page, OFFICER)
    page.goto("/officer")
    item = page.get_by_test_id("complaint-item").filter(has_text="食品安全").first
    item.wait_for()
    assert "已受理" in item.inner_text()
    page.get_by_role("status", name="实时更新已连接").wait_for()
    assert page.get_by_test_id("officer-imports").count() == 0  # imports are the health commission's
    _no_horizontal_scroll(page)
    screenshot(page, "officer-queue")

    item.click()
    page.wait_for_url(re.compile(r"/officer/complaints/[0-9a-f-]{36}$"))
    page.get_by_text("午餐送到时已经凉了").wait_for()
    page.get_by_role("button", name="变更状态").click()
    page.get_by_role("radio", name="调查处理中").click()
    page.get_by_label("对外说明").fill("已安排执法人员到园检查食堂。")
    page.get_by_label("内部备注").fill("周三上午现场检查")
    page.get_by_role("button", name="提交").click()
    status = page.get_by_test_id("complaint-status")
    status.filter(has_text="调查处理中").wait_for()
    page.get_by_text("已安排执法人员到园检查食堂。").wait_for()
    page.get_by_text("周三上午现场检查").wait_for()
    page.locator(".officer-sheet").wait_for(state="hidden")
    page.locator(".van-toast").wait_for(state="hidden")
    assert page.get_by_text("市场监管局").first.is_visible()  # departments by name, not code
    screenshot(page, "officer-detail")

    # Back in the queue, the complaint shows its new status.
    page.goto("/officer")
    page.get_by_test_id("complaint-item").filter(has_text="调查处理中").first.wait_for()
