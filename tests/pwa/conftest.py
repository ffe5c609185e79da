"""End-to-end tests of the PWA in a real browser: Debian's chromium driven by Playwright, against a
real server (uvicorn subprocess) on its own database with the Daqing demo data.

The PWA must be built first (`make pwa`; `make test` does it). Without /usr/bin/chromium these tests
are skipped with a loud reason, unless E2E_REQUIRED=1 (set by .ci/run), which turns that into a failure.
Screenshots (390×844, an iPhone-sized phone) are written to var/screenshots/.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.core.config import REPO_ROOT
from backend.demo.data import DEMO_PASSWORD
from tests.live import LiveServer, live_server, scratch_database

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
# 萨尔图区示范性婴幼儿照护服务中心 (230602-0) is near here; the demo parents' children are enrolled there.
SAERTU = {"latitude": 46.63, "longitude": 125.11}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/pwa/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = (
            f"!!! {CHROMIUM} is missing: the PWA end-to-end tests did NOT run. "
            "Install Debian's chromium (apt-get install chromium) — `make test` tries to. !!!"
        )
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(reason=message)
    return CHROMIUM


@pytest.fixture(scope="session")
def pwa_dist() -> Path:
    """The built app: pwa/dist, or PWA_DIR (served by the test server too)."""
    dist = Path(os.environ.get("PWA_DIR") or REPO_ROOT / "pwa" / "dist")
    if not (dist / "index.html").exists() or not (dist / "sw.js").exists():
        pytest.fail("the PWA is not built: run `make pwa` (make test does it) before the end-to-end tests")
    return dist


@pytest.fixture(scope="module")
def e2e_server(server_url: str, pwa_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with the demo data for each test module (tests in one module use distinct
    accounts or create what they change)."""
    with (
        scratch_database(server_url, demo=True) as url,
        live_server(url, tmp_path_factory.mktemp("e2e"), LOG_LEVEL="INFO") as server,
    ):
        yield server


@pytest.fixture(scope="module")
def browser(chromium: Path, e2e_server: LiveServer) -> Iterator[object]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in this thread
    while it is open, so everything that needs asyncio.run (the server's database) is set up before it,
    and tests talk to the server over HTTP (httpx), never through asyncio.run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_context(browser, e2e_server: LiveServer) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A factory of fresh browser profiles (a phone at 390×844, zh-CN, located in Saertu)."""
    contexts = []

    def make(**options):  # type: ignore[no-untyped-def]
        settings = {
            "base_url": e2e_server.base_url,
            "viewport": PHONE,
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            "geolocation": SAERTU,
            "permissions": ["geolocation"],
            "service_workers": "allow",
            # Playwright's polling predicates (wait_for_function) are evaluated with eval, which the app's
            # strict CSP forbids; the policy itself is proven with it in force (bypass_csp=False) by
            # tests/pwa/test_csp.py and on every kind of response by tests/core/test_headers.py.
            "bypass_csp": True,
        }
        ctx = browser.new_context(**{**settings, **options})
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def sign_in(page, login: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the app's own form (password tab), then wait to land back in the app."""
    page.goto("/login")
    page.get_by_role("tab", name=re.compile("密码登录")).click()
    page.get_by_label(re.compile("手机号或邮箱")).fill(login)
    page.get_by_label(re.compile("^密码")).fill(password)
    page.get_by_role("button", name=re.compile("^登录")).click()
    page.wait_for_url(lambda url: "/login" not in url)


def filter_button(page, category: str, shown: str | None = None):  # type: ignore[no-untyped-def]
    """找托育's filter bar title for ``category`` (区域, 类型, 月龄, 价格), showing ``shown`` if given."""
    name = re.compile(rf"^{category}：\s*{re.escape(shown)}$") if shown else re.compile(rf"^{category}：")
    return page.locator(".filter-bar").get_by_role("button", name=name)


def choose_filter(page, category: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Open a dropdown of 找托育's filter bar and choose an option (the menu closes)."""
    filter_button(page, category).click()
    page.get_by_role("menuitem", name=re.compile(rf"^{re.escape(option)}[\s\W]*$")).click()


def pick_date(page, label: str, day: str) -> None:  # type: ignore[no-untyped-def]
    """Set a DateField (Vant's date picker) labelled ``label`` to ``day`` (YYYY-MM-DD): open it, choose
    the year, month and day in the wheels (a click on an option scrolls its wheel to it), confirm."""
    year, month, date = (int(x) for x in day.split("-"))
    page.get_by_label(label, exact=True).click()
    picker = page.locator(".van-popup .van-picker").filter(visible=True)
    picker.wait_for()
    for column, text in enumerate((f"{year}年", f"{month}月", f"{date}日")):
        option = (
            picker.locator(".van-picker-column")
            .nth(column)
            .locator(".van-picker-column__item")
            .filter(has_text=re.compile(rf"^{text}$"))
        )
        option.evaluate("el => el.click()")  # the wheel may have it out of sight: no pointer needed
        page.wait_for_function(
            "([el, text]) => el.querySelector('.van-picker-column__item--selected')?.textContent?.trim() === text",
            arg=[picker.locator(".van-picker-column").nth(column).element_handle(), text],
        )
    picker.get_by_role("button", name="确定").click()
    picker.wait_for(state="hidden")


def wait_for_service_worker(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the service worker is active and controls the page.

    The worker installs only after precaching the whole shell, which on a loaded machine can take a
    while; it then claims open pages. A page whose claim raced its own navigation is reloaded once
    (a page loaded after activation is always controlled)."""
    active = page.evaluate(
        """() => Promise.race([
            navigator.serviceWorker.ready.then((r) => r.active !== null),
            new Promise((resolve) => setTimeout(() => resolve(false), 60000)),
        ])"""
    )
    assert active, "the service worker did not activate within 60 s"
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)


def sms_code(server: LiveServer, phone: str, timeout_s: float = 10.0) -> str:
    """The last sign-in code the development SMS sender logged for a phone (LOG_LEVEL=INFO). The server
    logs through a queue listener thread, so the line may land just after the HTTP answer: wait for it."""
    masked = f"{phone[:3]}****{phone[-4:]}"
    deadline = time.monotonic() + timeout_s
    while True:
        codes = re.findall(rf"SMS to {re.escape(masked)}: .*?(\d{{6}})", server.log())
        if codes:
            return codes[-1]
        assert time.monotonic() < deadline, f"no SMS code for {masked} in the server log"
        time.sleep(0.05)
