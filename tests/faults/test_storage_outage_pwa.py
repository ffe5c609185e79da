"""The PWA's complaint form while the object store is down: the complaint is filed, the reporter is told
(in Chinese) that the photo was not stored, and the "补传照片" button adds it once storage is back.
A real browser (chromium), a real server (uvicorn) and a real S3 server (``rclone serve s3``) that
is not running at first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.faults.test_storage_outage import BUCKET, StoppableS3
from tests.live import LiveServer, live_server, scratch_database
from tests.pwa.conftest import CHROMIUM_ARGS, PHONE, chromium, pwa_dist  # noqa: F401 (fixtures)
from tests.pwa.test_complaints_rooms import choose_category, small_png
from tests.s3server import ACCESS_KEY, SECRET_KEY

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def s3_later(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppableS3]:
    """An S3 server's port and directory, not started: storage is down until the test starts it."""
    server = StoppableS3(tmp_path_factory.mktemp("s3-later"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(server_url: str, pwa_dist: Path, s3_later: StoppableS3, tmp_path_factory) -> Iterator[LiveServer]:  # noqa: F811
    env = {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT": f"127.0.0.1:{s3_later.port}",
        "S3_ACCESS_KEY": ACCESS_KEY,
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_BUCKET": BUCKET,
        "S3_SECURE": "false",
        "PUSH_WORKER": "false",
        "PWA_DIR": str(pwa_dist),
    }
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path_factory.mktemp("faults-e2e"), **env) as live,
    ):
        yield live


def test_a_complaint_is_filed_while_storage_is_down_and_its_photo_added_later(
    chromium: Path,  # noqa: F811
    server: LiveServer,
    s3_later: StoppableS3,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(
                base_url=server.base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
            )
            ctx.set_default_timeout(20_000)
            page = ctx.new_page()
            page.goto("/complaints/new")
            choose_category(page, "食品安全")
            page.get_by_role("radio", name="其他地点").click()
            page.get_by_label("地址").fill("萨尔图区某街道 1 号")
            page.get_by_label("问题描述").fill("午餐的米饭没有煮熟。")
            page.locator('input[type="file"]').set_input_files(str(small_png(tmp_path)))
            expect(page.locator(".van-uploader__preview")).to_have_count(1)
            page.get_by_role("switch", name="匿名提交").click()

            with page.expect_response(lambda r: r.url.endswith("/api/complaints") and r.request.method == "POST") as r:
                page.get_by_role("button", name="提交投诉").click()
            assert r.value.status == 201
            assert r.value.json()["photos_not_stored"]["count"] == 1
            expect(page.get_by_role("heading", name="投诉已提交")).to_be_visible()
            code = page.get_by_test_id("tracking-code").inner_text().strip()
            notice = page.get_by_test_id("photos-not-stored")
            expect(notice).to_contain_text("1 张照片因文件存储暂时不可用未能保存")

            # Still down: the retry is refused (503) and says so; the notice stays.
            with page.expect_response(lambda r: r.url.endswith("/api/complaints/track/photos")) as r:
                page.get_by_role("button", name="补传照片").click()
            assert r.value.status == 503 and r.value.headers["retry-after"]
            expect(page.get_by_text("文件存储暂时不可用，请稍后重试")).to_be_visible()
            expect(notice).to_be_visible()

            s3_later.start()
            with page.expect_response(lambda r: r.url.endswith("/api/complaints/track/photos")) as r:
                page.get_by_role("button", name="补传照片").click()
            assert r.value.status == 201
            expect(page.get_by_text("照片已补传")).to_be_visible()
            expect(notice).to_have_count(0)
        finally:
            browser.close()

    tracked = httpx.post(f"{server.base_url}/api/complaints/track", json={"tracking_code": code}, timeout=30)
    assert tracked.status_code == 200 and tracked.json()["photos"] == 1
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}", code)
