"""An app with WeChat configured against the local WeChat server (tests/wechat/server.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from backend.accounts.sms import mask_phone
from backend.app import create_app
from backend.core.config import WeChatSettings, WeChatTemplate
from tests.conftest import _session_maker, make_settings
from tests.wechat.server import APP_ID, APP_SECRET, WeChatState, wechat_server

BOOKING_TEMPLATE = "tpl-bookings-0001"
NOTICE_TEMPLATE = "tpl-notices-0001"


def wechat_settings(api_base: str, **overrides: Any) -> WeChatSettings:
    base: dict[str, Any] = {
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "api_base": api_base,
        "oauth_base": api_base,
        "templates": (
            ("bookings", WeChatTemplate(BOOKING_TEMPLATE, (("thing1", "title"), ("time2", "time")))),
            ("notices", WeChatTemplate(NOTICE_TEMPLATE, (("thing1", "title"),))),
        ),
    }
    base.update(overrides)
    return WeChatSettings(**base)


@pytest.fixture
def wx() -> Iterator[tuple[str, WeChatState]]:
    with wechat_server(templates={BOOKING_TEMPLATE, NOTICE_TEMPLATE}, trusted_domain="127.0.0.1:8000") as served:
        yield served


@pytest.fixture
def wx_settings(wx):
    return make_settings(wechat=wechat_settings(wx[0]))


@pytest.fixture
async def wx_app(engine, wx_settings):
    return create_app(wx_settings, engine=engine)


def _client(app: Any, conn: Any) -> httpx.AsyncClient:
    app.state[app.state.alchemy.session_maker_app_state_key] = _session_maker(conn)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.8", 40000)), base_url="http://127.0.0.1:8000"
    )


@pytest.fixture
async def browser(wx_app, conn) -> AsyncIterator[httpx.AsyncClient]:
    """One browser (its own cookie jar) on the WeChat-enabled app."""
    async with _client(wx_app, conn) as http:
        yield http


@pytest.fixture
def new_browser(wx_app, conn):
    """Another browser of the same app (a fresh cookie jar); close it with ``async with``."""
    return lambda: _client(wx_app, conn)


@pytest.fixture
def sms_log(caplog):
    caplog.set_level(logging.WARNING, logger="backend.sms")

    def last_code(phone: str) -> str:
        for record in reversed(caplog.records):
            message = record.getMessage()
            if record.name == "backend.sms" and mask_phone(phone) in message:
                return re.search(r"验证码是 (\d{6})", message).group(1)  # type: ignore[union-attr]
        raise AssertionError("no SMS was logged for this number")

    return last_code


async def through_wechat(browser: httpx.AsyncClient, scope: str = "base", next_path: str = "/care") -> httpx.Response:
    """Start the authorisation in ``browser``, let the (local) WeChat agree, and come back: the
    callback's answer."""
    start = await browser.get("/api/wechat/authorize", params={"scope": scope, "next": next_path})
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient() as wechat:  # the person's WeChat client, on WeChat's own site
        agreed = await wechat.get(start.headers["location"].split("#", 1)[0])
    assert agreed.status_code == 302, agreed.text
    back = httpx.URL(agreed.headers["location"])
    return await browser.get(back.path, params=dict(back.params))
