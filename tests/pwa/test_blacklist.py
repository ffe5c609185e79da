"""The blacklist and staff roster in a real browser: the public list is one tap from the complaints
area; a health officer checks a demo ID number (validated in the browser first); an institution admin
sees the roster tab, and adding a blacklisted person is refused with a clear message. The new screens
meet the quality bars (no sideways scroll at 360 px, 44 px targets, labelled inputs)."""

from __future__ import annotations

import re

import httpx

from backend.demo.blacklist import DEMO_BLACKLISTED_ID_NUMBERS
from tests.pwa.conftest import screenshot, sign_in
from tests.pwa.test_quality import NARROW, audit

DEMO_CENTRE = "萨尔图区示范性婴幼儿照护服务中心"


def _institution_id(base_url: str, name: str) -> str:
    r = httpx.get(f"{base_url}/api/institutions", params={"q": name, "limit": 5}, timeout=15)
    [item] = [i for i in r.json()["items"] if i["name"] == name]
    return item["id"]


def test_the_public_list_is_one_tap_from_complaints(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    page.goto("/complaints")
    page.get_by_test_id("blacklist-link").click()
    page.wait_for_url(re.compile(r"/blacklist$"))
    cards = page.get_by_test_id("blacklisted-institution")
    cards.first.wait_for()
    text = " ".join(cards.all_inner_texts())
    assert "【演示】星星点点托育工作室（虚构）" in text and "演示卫健罚〔2026〕1号" in text
    assert "演示人员甲" not in page.content()  # people are never public
    screenshot(page, "blacklist-public")
    audit(page, "/blacklist")


def test_an_officer_checks_an_id_number(new_context) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, "health.officer@daqing.example")
    page.goto("/officer")
    page.get_by_test_id("officer-blacklist").click()
    page.wait_for_url(re.compile(r"/officer/blacklist$"))
    page.get_by_test_id("blacklist-entry").first.wait_for()
    page.get_by_role("tab", name="人员").click()
    page.get_by_text("演示人员甲").wait_for()
    assert "**************" in page.get_by_test_id("blacklist-entry").first.inner_text()

    page.goto("/officer/blacklist/check")
    field = page.get_by_label(re.compile("居民身份证号码"))
    field.fill(DEMO_BLACKLISTED_ID_NUMBERS[0][:-1] + "9")  # wrong check digit: refused in the browser
    page.get_by_role("button", name="查询").click()
    page.get_by_text("校验位不正确").wait_for()
    field.fill(DEMO_BLACKLISTED_ID_NUMBERS[0])
    page.get_by_role("button", name="查询").click()
    page.get_by_text("该人员在黑名单中").wait_for()
    assert DEMO_BLACKLISTED_ID_NUMBERS[0] not in page.url
    screenshot(page, "blacklist-check")
    for path in ("/officer/blacklist", "/officer/blacklist/check", "/officer/blacklist/new?kind=person"):
        audit(page, path)


def test_an_admin_keeps_the_roster_and_cannot_add_a_blacklisted_person(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    inst = _institution_id(e2e_server.base_url, DEMO_CENTRE)
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, "inst.admin@daqing.example")
    page.goto(f"/staff/{inst}")
    page.get_by_role("tab", name="名册").click()
    page.wait_for_url(re.compile(rf"/staff/{inst}/roster$"))
    members = page.get_by_test_id("roster-member")
    members.first.wait_for()
    assert members.count() >= 5
    assert "演示园长 周" in " ".join(members.all_inner_texts())

    page.get_by_label("姓名").fill("演示新员工")
    page.get_by_label(re.compile("居民身份证号码")).fill(DEMO_BLACKLISTED_ID_NUMBERS[1].lower())
    page.get_by_role("button", name="添加工作人员").click()
    error = page.get_by_test_id("roster-error")
    error.wait_for()
    assert "黑名单" in error.inner_text()
    assert members.count() >= 5 and "演示新员工" not in " ".join(members.all_inner_texts())
    screenshot(page, "blacklist-roster")
    audit(page, f"/staff/{inst}/roster")


def test_staff_who_are_not_admins_see_no_roster_tab(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    inst = _institution_id(e2e_server.base_url, DEMO_CENTRE)
    page = new_context().new_page()
    sign_in(page, "inst.staff@daqing.example")
    page.goto(f"/staff/{inst}")
    page.get_by_role("tab", name=re.compile("工作台|申请")).first.wait_for()
    assert page.get_by_role("tab", name="名册").count() == 0
