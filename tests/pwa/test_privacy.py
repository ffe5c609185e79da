"""我的数据 in the browser: a parent downloads everything the platform holds about the family, then
deletes it after the confirmation dialog; the account is gone (its password no longer signs in)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from backend.demo.data import DEMO_PASSWORD
from tests.pwa.conftest import screenshot, sign_in

PARENT = "13800000002"


def test_a_parent_exports_then_erases_their_family_data(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context(accept_downloads=True).new_page()
    sign_in(page, PARENT)
    page.goto("/me")
    expect(page.get_by_text("我的数据", exact=True)).to_be_visible()
    screenshot(page, "privacy-my-data")

    # Export: a JSON file with the family's records, the child's name in clear.
    with page.expect_download() as info:
        page.get_by_text("导出我的数据", exact=True).click()
    download = info.value
    assert re.fullmatch(r"daqing-my-data-\d{8}\.json", download.suggested_filename)
    doc = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert doc["format"] == "daqing-family-data/1" and doc["account"]["phone"] == PARENT
    assert len(doc["children"]) == 1 and doc["children"][0]["name"]
    assert doc["applications"], "the demo child's enrolment is part of the export"
    expect(page.get_by_text("数据已导出")).to_be_visible()

    # Erase: the dialog explains, insists on a confirmation, then deletes.
    page.get_by_text("删除我的数据并注销账号", exact=True).click()
    dialog = page.locator(".van-dialog")
    expect(dialog.get_by_text("永久删除我的数据？")).to_be_visible()
    expect(dialog.get_by_text(re.compile("此操作不可恢复"))).to_be_visible()
    dialog.get_by_role("button", name="永久删除").click()
    expect(dialog.get_by_text("请输入登录密码")).to_be_visible()
    dialog.get_by_label("登录密码", exact=True).fill("not-the-password")
    with page.expect_response(lambda r: r.url.endswith("/api/me/erase") and r.status == 403):
        dialog.get_by_role("button", name="永久删除").click()
    expect(dialog).to_be_visible()  # refused: the dialog stays, nothing was deleted
    screenshot(page, "privacy-erase-dialog")
    dialog.get_by_label("登录密码", exact=True).fill(DEMO_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/me/erase") and r.status == 200):
        dialog.get_by_role("button", name="永久删除").click()
    expect(page.get_by_text("您的数据已删除，账号已注销")).to_be_visible()
    expect(page.get_by_role("button", name="登录 / 注册")).to_be_visible()

    # The account can no longer sign in.
    r = httpx.post(e2e_server.base_url + "/api/auth/login", json={"login": PARENT, "password": DEMO_PASSWORD})
    assert r.status_code == 401


def test_my_data_is_in_english_in_the_en_locale(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    sign_in(page, "13800000001")
    page.evaluate("localStorage.setItem('dq.locale', 'en')")
    page.goto("/me")
    expect(page.get_by_text("My data", exact=True)).to_be_visible()
    expect(page.get_by_text("Download my data", exact=True)).to_be_visible()
    expect(page.get_by_text("Delete my data and close my account", exact=True)).to_be_visible()
