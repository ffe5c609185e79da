"""Accessibility audit in a real browser: axe-core (the npm package, pinned in pwa/package.json) is
injected into every main screen for every role — signed out, parent, staff, institution admin, officer
and city admin — and no serious or critical violation is allowed, colour contrast included (WCAG 2.1 A
and AA rules). docs/pwa-design.md says how the theme meets it.

Screens are found the way a user finds them: an institution from the 找托育 list, the staff desk from
/staff. Each audited screen is also saved to var/screenshots/a11y-<role>-<screen>.png for review."""

from __future__ import annotations

import re

import httpx
import pytest

from backend.core.config import REPO_ROOT
from tests.pwa.conftest import screenshot, sign_in

AXE = REPO_ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

# axe.run on the whole document; only the violations, each with the first few offending nodes.
RUN_AXE = """
async (tags) => {
  const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} :: ${(n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)}`),
  }));
}
"""

ROLES = {
    "anonymous": None,
    "parent": "13800000001",
    "staff": "inst.staff@daqing.example",
    "admin": "inst.admin@daqing.example",
    "officer": "market.officer@daqing.example",
    "city-admin": "city.admin@daqing.example",
}
# {inst} is a demo institution (the first in 找托育's list), {desk} the signed-in staff's institution.
SCREENS = {
    "anonymous": [
        "/",
        "/rooms",
        "/complaints",
        "/complaints/new",
        "/complaints/track",
        "/blacklist",
        "/guidance",
        "/login",
        "/me",
        "/institutions/{inst}",
    ],
    "parent": [
        "/",
        "/institutions/{inst}",
        "/institutions/{inst}/book",
        "/institutions/{inst}/apply",
        "/bookings",
        "/applications",
        "/notices",
        "/complaints/mine",
        "/me",
        "/me/children",
    ],
    "staff": [
        "/staff/{desk}",
        "/staff/{desk}/bookings",
        "/staff/{desk}/applications",
        "/staff/{desk}/notices",
        "/staff/{desk}/complaints",
        "/guidance/host/new",
        "/health/follow-ups",
        "/health/clusters",
        "/notices",
        "/me",
    ],
    "admin": [
        "/staff/{desk}",
        "/staff/{desk}/notices/new",
        "/staff/{desk}/roster",
        "/health/institutions/{desk}/settings",
        "/me",
    ],
    "officer": [
        "/officer",
        "/officer/assessments",
        "/officer/assessments/new",
        "/officer/filings",
        "/officer/blacklist",
        "/officer/blacklist/new",
        "/health/clusters",
        "/stats",
        "/me",
    ],
    "city-admin": [
        "/officer",
        "/health/clusters",
        "/stats",
        "/stats/supply",
        "/officer/imports",
        "/officer/audit",
        "/me",
    ],
}


@pytest.fixture(scope="module")
def institution_id(e2e_server) -> str:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{e2e_server.base_url}/api/institutions", params={"q": "萨尔图区示范性", "limit": 1}, timeout=15)
    assert r.status_code == 200, r.text
    return r.json()["items"][0]["id"]


def settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    page.locator(".van-loading, .page-state__loading").first.wait_for(state="detached", timeout=15_000)


def violations_of(page) -> list[dict]:  # type: ignore[no-untyped-def]
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(RUN_AXE, TAGS) if v["impact"] in BLOCKING]


def test_axe_is_installed() -> None:
    assert AXE.exists(), f"{AXE} is missing: run `make pwa` (npm ci installs axe-core)"


@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_screen_has_no_serious_accessibility_violation(new_context, institution_id: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    login = ROLES[role]
    desk = ""
    if login:
        sign_in(page, login)
        if role in ("staff", "admin"):
            page.goto("/staff")
            page.wait_for_url(re.compile(r"/staff/[0-9a-f-]{36}$"))
            desk = page.url.rsplit("/", 1)[1]
    found: dict[str, list[dict]] = {}
    for template in SCREENS[role]:
        path = template.format(inst=institution_id, desk=desk)
        page.goto(path)
        settle(page)
        name = re.sub(r"[^\w-]", "-", template.replace("{inst}", "inst").replace("{desk}", "desk")).strip("-") or "home"
        screenshot(page, f"a11y-{role}-{name}")
        bad = violations_of(page)
        if bad:
            found[path] = bad
    report = "\n".join(
        f"{path}: [{v['impact']}] {v['id']} — {v['help']}\n      " + "\n      ".join(v["nodes"])
        for path, vs in found.items()
        for v in vs
    )
    assert not found, f"serious/critical accessibility violations for {role}:\n{report}"


def test_the_audit_catches_low_contrast(new_context) -> None:  # type: ignore[no-untyped-def]
    """The audit could fail: Vant's old grey on white is reported as a serious contrast violation."""
    page = new_context().new_page()
    page.goto("/login")
    settle(page)
    page.evaluate(
        """() => { const p = document.createElement('p'); p.textContent = '灰色的小字';
           p.style.cssText = 'color:#969799;background:#fff;font-size:12px'; document.querySelector('#app').prepend(p); }"""
    )
    ids = {v["id"] for v in violations_of(page)}
    assert "color-contrast" in ids
