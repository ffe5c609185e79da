"""The PWA's quality bars, checked in the browser on a 360 px wide phone: no sideways scrolling,
touch targets of at least 44 px, and every input with an accessible name — on every main screen,
signed out and signed in as a parent, a staff member and an officer."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.pwa.conftest import screenshot, sign_in

NARROW = {"width": 360, "height": 740}

# Interactive elements that are visible, with their box and accessible name, as the browser sees them.
AUDIT_JS = """
() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const describe = (el) => (el.outerHTML || '').slice(0, 160);
  // A control counts as big enough when it, or the clickable row/label it sits in, is 44 px tall.
  const targetHeight = (el) => {
    let h = el.getBoundingClientRect().height;
    const host = el.closest('label, .van-cell, .van-checkbox, .van-radio, .van-tabbar-item, .van-tab, .van-grid-item, .van-button, [role=button], [role=tab], a[href], button');
    if (host) h = Math.max(h, host.getBoundingClientRect().height);
    return h;
  };
  const small = [];
  for (const el of document.querySelectorAll('button, a[href], [role=button], [role=tab], [role=checkbox], [role=radio], [role=switch], input, select, textarea')) {
    if (!visible(el) || el.closest('.leaflet-control-attribution, .leaflet-container')) continue;
    if (el.matches('input[type=file]')) continue;
    if (targetHeight(el) < 44) small.push(describe(el) + ' h=' + Math.round(targetHeight(el)));
  }
  const unlabelled = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (!visible(el) || el.matches('input[type=hidden], input[type=file]')) continue;
    const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title')
      || (el.labels && el.labels.length > 0);
    if (!named) unlabelled.push(describe(el));
  }
  return { width: document.documentElement.scrollWidth, small, unlabelled };
}
"""

PUBLIC = ["/", "/rooms", "/complaints", "/complaints/new", "/complaints/track", "/login", "/me"]
SIGNED_IN = {
    "13800000001": ["/", "/bookings", "/applications", "/notices", "/me", "/me/children", "/me/notifications"],
    "inst.staff@daqing.example": ["/staff"],
    "market.officer@daqing.example": ["/officer"],
}


def audit(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.locator(".van-loading").first.wait_for(state="detached", timeout=15_000)
    report = page.evaluate(AUDIT_JS)
    local = urlsplit(path).path  # a full URL (page.url) names its screenshot by its path alone
    name = "quality" + (re.sub(r"[^\w-]", "-", local) if local != "/" else "-home")
    screenshot(page, name)
    assert report["width"] <= NARROW["width"], f"{path} scrolls sideways: {report['width']} px wide"
    assert not report["small"], f"{path}: touch targets under 44 px: {report['small']}"
    assert not report["unlabelled"], f"{path}: inputs without a label: {report['unlabelled']}"


@pytest.mark.parametrize("path", PUBLIC)
def test_public_screens_meet_the_quality_bars(new_context, path: str) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    audit(page, path)


@pytest.mark.parametrize("login", list(SIGNED_IN))
def test_signed_in_screens_meet_the_quality_bars(new_context, login: str) -> None:  # type: ignore[no-untyped-def]
    page = new_context(viewport=NARROW).new_page()
    sign_in(page, login)
    for path in SIGNED_IN[login]:
        audit(page, path)
