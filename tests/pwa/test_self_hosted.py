"""Everything a page of the app loads comes from the app itself (issue 19 §3): no CDN at run time.

Each page is opened in Chromium with the server's policy in force, and every request the browser makes
is recorded: one to another origin fails the test, whether the page's HTML named it or a script asked
for it later (Scalar's web fonts, Swagger's favicon, ...). The HTML of each page is also read for
external scripts and stylesheets, so a reference the browser happened not to fetch still fails."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.pwa.conftest import screenshot

# (path, an element the page has once its renderer ran)
TITLE = "text=大庆市婴幼儿照护服务平台 Daqing Childcare Platform"
PAGES = [
    ("/", ".van-tabbar"),
    ("/institutions/{institution}", ".van-nav-bar"),
    ("/schema", TITLE),
    ("/schema/scalar", TITLE),
    ("/schema/swagger", ".swagger-ui .info"),
]
EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE
)
IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def institution(e2e_server) -> str:  # type: ignore[no-untyped-def]
    found = httpx.get(e2e_server.base_url + "/api/institutions/nearby", params={"lat": 46.63, "lng": 125.11}).json()
    return found["items"][0]["id"]


def test_no_page_references_an_external_script_or_style(e2e_server, institution: str) -> None:  # type: ignore[no-untyped-def]
    for path, _ in [*PAGES, ("/schema/oauth2-redirect.html", "")]:
        r = httpx.get(e2e_server.base_url + path.format(institution=institution), headers={"Accept": "text/html"})
        assert r.status_code == 200, path
        assert not EXTERNAL.search(r.text), f"{path} references another origin: {EXTERNAL.search(r.text)}"
        assert not IMPORT.search(r.text), path
        for ref in re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)""", r.text):
            if ref.startswith("/"):  # what the page names is really served
                assert httpx.get(e2e_server.base_url + ref).status_code == 200, (path, ref)


def test_pages_load_nothing_from_another_origin(new_context, e2e_server, institution: str) -> None:  # type: ignore[no-untyped-def]
    ctx = new_context(bypass_csp=False, service_workers="block")
    page = ctx.new_page()
    origin = urlsplit(e2e_server.base_url).netloc
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda req: (
            elsewhere.append(req.url)
            if urlsplit(req.url).scheme in ("http", "https", "ws", "wss") and urlsplit(req.url).netloc != origin
            else None
        ),
    )
    for path, shown in PAGES:
        page.goto(path.format(institution=institution))
        page.locator(shown).first.wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
    screenshot(page, "api-docs-swagger")
    # Tiles of the map are the one thing fetched from elsewhere by design (and only on the map screens).
    assert [url for url in elsewhere if "autonavi.com" not in url and "openstreetmap.org" not in url] == []
