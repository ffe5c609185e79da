"""The first screen (issue 19 §2): something meaningful paints before JavaScript runs, and public
screens do not wait for the server to say who is signed in."""

from __future__ import annotations

import re

from tests.pwa.conftest import screenshot


def test_the_app_shell_paints_from_the_html_alone(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    shell = page.get_by_role("status")
    assert shell.get_attribute("aria-busy") == "true"
    assert page.get_by_text("大庆市婴幼儿照护服务平台").is_visible()
    assert page.get_by_text(re.compile("正在加载")).is_visible()
    # Its decorative tabs are hidden from assistive technology: the real tab bar is the only one.
    assert page.get_by_role("tab").count() == 0
    screenshot(page, "first-load-shell")


def test_public_screens_render_while_the_account_check_is_unanswered(new_context, e2e_server) -> None:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    held = []
    page.route("**/api/me", lambda route: held.append(route))  # never answered until released below
    page.goto("/")
    page.get_by_role("tab", name="找托育").wait_for()  # the app mounted and routed
    page.locator(".find-care").wait_for()
    assert held, "the app did not ask who is signed in"
    assert page.get_by_role("status").filter(has_text="正在加载").count() == 0  # the shell was replaced
    for route in held:
        route.continue_()
