"""The PWA inside WeChat's browser (Chromium with WeChat's user agent) against the local WeChat server:
WeChat sign-in with binding, no service worker, subscription messages instead of Web Push, the JS-SDK
location converted from GCJ-02 to WGS-84, silent sign-in on the next visit; outside WeChat nothing
changes.

The test plays WeChat's client: ``WeixinJSBridge`` (which WeChat injects into its pages) is defined by
an init script; it checks the JS-SDK signature against the local WeChat server's jsapi_ticket and
answers ``getLocation`` with a GCJ-02 position, and the test fires the ``wx-open-subscribe`` tag's
``success`` event as WeChat does when the person accepts.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import random_phone
from tests.live import LiveServer, free_port, live_server, scratch_database
from tests.pwa.conftest import sms_code
from tests.wechat.server import APP_ID, APP_SECRET, WeChatState, wechat_server

WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2585 "
    "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
BOOKINGS_TPL, NOTICES_TPL = "tplBookingsE2E", "tplNoticesE2E"
HERE_WGS84 = (46.59, 125.10)  # somewhere in Daqing, away from the default map centre


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """The published GCJ-02 offset (what WeChat's getLocation answers with type 'gcj02')."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lng - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    d_lng = (d_lng * 180.0) / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lat + d_lat, lng + d_lng


HERE_GCJ02 = wgs84_to_gcj02(*HERE_WGS84)

BRIDGE = """
window.__wx = { calls: [] };
window.WeixinJSBridge = {
  invoke(name, params, cb) {
    window.__wx.calls.push({ name, type: params && params.type });
    if (name === 'updateAppMessageShareData') window.__wx.shareCard = params;
    if (name === 'preVerifyJSAPI') {
      window.wxVerify(params.verifyAppId, params.verifyTimestamp, params.verifyNonceStr, params.verifySignature,
                      location.href.split('#')[0])
        .then((ok) => cb({ err_msg: ok ? 'preVerifyJSAPI:ok' : 'preVerifyJSAPI:fail_invalid signature' }));
    } else if (name === 'geoLocation') {
      cb({ err_msg: 'geoLocation:ok', latitude: __LAT__, longitude: __LNG__, speed: 0, accuracy: 30 });
    } else if (name === 'getNetworkType') {
      cb({ err_msg: 'network_type:wifi' });
    } else {
      cb({ err_msg: name + ':ok' });
    }
  },
  on() {},
};
""".replace("__LAT__", repr(HERE_GCJ02[0])).replace("__LNG__", repr(HERE_GCJ02[1]))


@pytest.fixture(scope="module")
def wx() -> Iterator[tuple[str, WeChatState]]:
    with wechat_server(templates={BOOKINGS_TPL, NOTICES_TPL}) as served:
        yield served


@pytest.fixture(scope="module")
def e2e_server(server_url, pwa_dist, tmp_path_factory, wx) -> Iterator[LiveServer]:
    """The demo server with WeChat switched on, reaching the local WeChat server."""
    base, st = wx
    port = free_port()
    st.trusted_domain = f"127.0.0.1:{port}"  # the 网页授权域名 configured in WeChat's console
    env = {
        "LOG_LEVEL": "INFO",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_API_BASE": base,
        "WECHAT_OAUTH_BASE": base,
        "WECHAT_TEMPLATES": f"bookings={BOOKINGS_TPL}:thing1/title,time2/time;notices={NOTICES_TPL}:thing1/title",
    }
    with (
        scratch_database(server_url, demo=True) as url,
        live_server(url, tmp_path_factory.mktemp("e2e-wechat"), port=port, **env) as server,
    ):
        yield server


def _wechat_page(new_context, wx):  # type: ignore[no-untyped-def]
    _base, st = wx
    verified: list[bool] = []

    def verify(app_id: str, timestamp: str, nonce: str, signature: str, url: str) -> bool:
        plain = f"jsapi_ticket={st.ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
        ok = app_id == st.app_id and signature == hashlib.sha1(plain.encode()).hexdigest()
        verified.append(ok)
        return ok

    ctx = new_context(user_agent=WECHAT_UA)
    ctx.expose_function("wxVerify", verify)
    ctx.add_init_script(BRIDGE)
    return ctx.new_page(), verified


def test_inside_wechat(new_context, e2e_server, wx):
    _base, st = wx
    page, verified = _wechat_page(new_context, wx)

    # Sign-in page: WeChat first.
    page.goto("/login?next=/me")
    page.get_by_test_id("wechat-sign-in").wait_for()
    page.get_by_role("button", name="微信一键登录").click()
    page.wait_for_url(re.compile(r"/wechat/bind\?next=/me(#.*)?$"))  # WeChat keeps #wechat_redirect

    # First time: verify the phone once.
    phone = random_phone()
    page.get_by_label(re.compile("手机号")).fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label(re.compile("验证码")).fill(sms_code(e2e_server, phone))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(re.compile(r"/me(#.*)?$"))
    page.get_by_test_id("wechat-binding").filter(has_text="已绑定微信").wait_for()
    assert st.person.openid not in page.content()

    # No service worker inside WeChat (it would make offline promises WeChat's browser cannot keep).
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0

    # Notifications: WeChat subscription instead of Web Push.
    page.goto("/me/notifications")
    tag = page.locator("wx-open-subscribe")
    tag.wait_for(state="attached")
    assert tag.get_attribute("template") == f"{BOOKINGS_TPL},{NOTICES_TPL}"
    assert page.get_by_role("button", name="开启本设备推送").count() == 0
    page.wait_for_function("window.__wx.calls.some((c) => c.name === 'preVerifyJSAPI')")
    accepted = {BOOKINGS_TPL: json.dumps({"status": "accept"}), NOTICES_TPL: json.dumps({"status": "reject"})}
    tag.evaluate(  # what WeChat fires when the person accepts in its dialog
        "(el, details) => el.dispatchEvent(new CustomEvent('success', { detail: { subscribeDetails: details } }))",
        json.dumps(accepted),
    )
    page.get_by_test_id("wechat-sub-bookings").filter(has_text="已订阅").wait_for()
    assert page.get_by_test_id("wechat-sub-notices").inner_text() == "未订阅"
    mine = page.request.get("/api/me/wechat").json()
    assert mine["subscriptions"] == ["bookings"] and mine["channel_on"] is True
    assert verified and all(verified)  # every page's JS-SDK signature checked out against the ticket

    # Location from WeChat (GCJ-02) is searched in WGS-84.
    page.goto("/")
    with page.expect_request(lambda r: "/api/institutions/nearby" in r.url and "lat=46.59" in r.url) as searched:
        page.get_by_role("button", name="定位").click()
    query = httpx.URL(searched.value.url).params
    assert abs(float(query["lat"]) - HERE_WGS84[0]) < 2e-5 and abs(float(query["lng"]) - HERE_WGS84[1]) < 2e-5
    assert {"name": "geoLocation", "type": "gcj02"} in page.evaluate("window.__wx.calls")

    # An institution's page describes the card WeChat's own menu shares (WeChat alone can share).
    first = page.request.get("/api/institutions/nearby?lat=46.59&lng=125.1&radius_m=50000").json()["items"][0]
    page.goto(f"/institutions/{first['id']}")
    page.wait_for_function("window.__wx.shareCard !== undefined")
    card = page.evaluate("window.__wx.shareCard")
    assert card["title"] == first["name"] and card["link"].endswith(f"/institutions/{first['id']}")
    page.get_by_role("button", name=re.compile("分享")).first.click()
    page.get_by_text("请点击右上角「…」").wait_for()

    # Signed out, the next visit signs in silently through WeChat.
    page.goto("/me")
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录 / 注册").wait_for()
    token_calls = st.token_calls
    page.goto("/me")
    page.get_by_test_id("wechat-binding").filter(has_text="已绑定微信").wait_for()
    assert re.search(r"/me(#.*)?$", page.url)
    assert st.token_calls == token_calls  # sign-in uses the person's code, not the account's token


def test_outside_wechat_nothing_changes(new_context, e2e_server):
    page = new_context().new_page()
    page.goto("/login")
    page.get_by_role("tab", name=re.compile("验证码登录")).wait_for()
    assert page.get_by_test_id("wechat-sign-in").count() == 0
    assert page.get_by_role("button", name="微信一键登录").count() == 0
