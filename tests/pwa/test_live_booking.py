"""The issue's live scenario end to end, in two browsers: a parent finds care near a point and books an
hourly slot in the app; the staff member's console, already open on that day, shows the booking
appear without reloading."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.pwa.conftest import choose_filter, screenshot, sign_in
from tests.pwa.test_consoles import staff_sees_new_booking
from tests.pwa.test_parent_care import CHILD, CHILD_BAND

STAFF = "inst.staff@daqing.example"
PARENT = "13800000001"


def _first_day_with_a_free_slot(page, institution_id: str) -> str:  # type: ignore[no-untyped-def]
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    for offset in range(1, 14):  # from tomorrow: never inside the cancellation cut-off
        day = (today + dt.timedelta(days=offset)).isoformat()
        r = page.request.get(f"/api/institutions/{institution_id}/slots", params={"day": day, "band": CHILD_BAND})
        assert r.ok, r.text()
        if any(slot["free"] > 0 for slot in r.json()["slots"]):
            return day
    raise AssertionError("no free hourly slot at the staff's institution in the next two weeks")


def test_a_booking_made_in_the_app_appears_live_on_the_staff_console(new_context) -> None:  # type: ignore[no-untyped-def]
    staff = new_context().new_page()
    sign_in(staff, STAFF)
    institution_id = staff.request.get("/api/me").json()["roles"][0]["institution_id"]
    name = staff.request.get(f"/api/institutions/{institution_id}").json()["name"]

    parent = new_context().new_page()
    sign_in(parent, PARENT)
    day = _first_day_with_a_free_slot(parent, institution_id)

    def book_in_the_app() -> str:
        # 找托育 near the parent's position (定位), hourly care only; the staff's institution is listed.
        parent.goto("/")
        with parent.expect_response(lambda r: "/api/institutions/nearby" in r.url and "lat=46.63" in r.url):
            parent.get_by_role("button", name="定位").click()
        with parent.expect_response(lambda r: "/api/institutions/nearby" in r.url and "mode=hourly" in r.url):
            choose_filter(parent, "类型", "计时托")
        parent.get_by_role("list", name="搜索结果").get_by_role("link").filter(has_text=name).first.click()
        parent.wait_for_url(re.compile(rf"/institutions/{institution_id}$"))

        parent.get_by_role("button", name="预约计时托/临时托").click()
        hourly = parent.get_by_role("radio", name=re.compile("^计时托"))
        if hourly.count():
            hourly.click()
        parent.get_by_role("radio", name=re.compile(CHILD)).click()
        parent.locator(f'button[data-day="{day}"]').click()
        parent.locator(f'[data-loaded="{day}|{CHILD_BAND}"]').wait_for()
        parent.get_by_role("group", name="可预约时段").locator("button:not([disabled])").first.click()
        parent.get_by_role("button", name="确认预约").click()
        parent.wait_for_url(re.compile(r"/bookings/[0-9a-f-]{36}$"))
        expect(parent.get_by_test_id("booking-status")).to_have_text("已预约")
        screenshot(parent, "live-parent-booked")
        return CHILD

    staff_sees_new_booking(staff, institution_id, day, book_in_the_app)
    screenshot(staff, "live-staff-sees-booking")
