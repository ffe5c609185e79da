"""The app shell: served at / and at deep links, installable, and loading with no network."""

from __future__ import annotations

import json

from tests.pwa.conftest import screenshot, wait_for_service_worker


def test_the_shell_is_installable_and_opens_offline(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/")
    # The manifest is valid for installation: name, start URL, standalone display, 192 and 512 icons.
    manifest_href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = json.loads(page.request.get(manifest_href).text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["name"] == "大庆市婴幼儿照护服务平台" and manifest["lang"] == "zh-CN"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(icon["src"]).headers["content-type"] == "image/png"

    # The service worker registers and takes control of the page.
    wait_for_service_worker(page)
    page.get_by_role("tab", name="找托育").wait_for()  # the tab bar, in Chinese first

    # With the network off, the shell and a deep link still open (answered by the service worker).
    ctx.set_offline(True)
    page.goto("/rooms")
    page.get_by_text("网络已断开").wait_for()
    assert page.get_by_role("tab", name="母婴室").is_visible()
    screenshot(page, "offline-shell")
    ctx.set_offline(False)


def test_deep_links_are_the_app_and_unknown_api_paths_stay_json(e2e_server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    page = httpx.get(e2e_server.base_url + "/bookings/123", headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<div id="app">' in page.text
    api = httpx.get(e2e_server.base_url + "/api/nothing-here", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    asset = httpx.get(e2e_server.base_url + "/assets/missing.js", headers={"Accept": "text/html"})
    assert asset.status_code == 404
    # The liveness probe is exactly /health; the health screens under /health/ are the app (the links of
    # the health_follow_up and health_cluster events).
    probe = httpx.get(e2e_server.base_url + "/health", headers={"Accept": "text/html"})
    assert probe.json()["status"] == "ok"
    screen = httpx.get(e2e_server.base_url + "/health/follow-ups", headers={"Accept": "text/html"})
    assert screen.status_code == 200 and '<div id="app">' in screen.text
