"""Signing in with WeChat: first time with binding (phone verified by SMS code), then directly; the
``state`` is bound to the browser, single use; unbinding; not configured → 404."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from backend.accounts.models import Account
from backend.wechat.models import WeChatIdentity, WeChatPendingBinding
from tests.factories import random_phone
from tests.wechat.conftest import through_wechat


async def _bind(browser, sms_log, phone: str) -> httpx.Response:
    assert (await browser.post("/api/auth/code", json={"phone": phone})).status_code == 202
    return await browser.post("/api/wechat/bind", json={"phone": phone, "code": sms_log(phone)})


async def test_first_sign_in_binds_then_wechat_signs_in(browser, new_browser, db, wx, sms_log, caplog):
    _base, st = wx
    st.person.unionid = "oUnion" + st.person.openid[-8:]
    st.person.nickname = "小米妈妈"
    back = await through_wechat(browser, scope="userinfo", next_path="/care")
    assert back.status_code == 302
    assert back.headers["location"] == "/wechat/bind?next=/care"
    assert "dq_session" not in back.cookies  # not signed in before the phone is verified
    assert await db.scalar(select(func.count()).select_from(WeChatIdentity)) == 0

    phone = random_phone()
    bound = await _bind(browser, sms_log, phone)
    assert bound.status_code == 200, bound.text
    assert bound.json()["account"]["phone"] == phone
    identity = (await db.execute(select(WeChatIdentity).where(WeChatIdentity.openid == st.person.openid))).scalar_one()
    account = (await db.execute(select(Account).where(Account.phone == phone))).scalar_one()
    assert identity.account_id == account.id
    assert (identity.unionid, identity.nickname, identity.scope) == (st.person.unionid, "小米妈妈", "snsapi_userinfo")
    mine = await browser.get("/api/me/wechat")
    assert mine.json()["bound"] is True and mine.json()["nickname"] == "小米妈妈"
    assert st.person.openid not in mine.text  # never shown, not even to its owner's screen
    # the pending binding is used up: a second bind in this browser is refused
    again = await _bind(browser, sms_log, random_phone())
    assert again.status_code in (409, 429)

    # Later, in another browser session: opening the app in WeChat signs in silently.
    async with new_browser() as later:
        back = await through_wechat(later, scope="base", next_path="/bookings")
        assert back.status_code == 302 and back.headers["location"] == "/bookings"
        me = await later.get("/api/me")
        assert me.status_code == 200 and me.json()["id"] == str(account.id)
    # the openid is never logged in full
    assert all(st.person.openid not in r.getMessage() for r in caplog.records)


async def test_a_state_from_another_browser_or_used_twice_is_refused(browser, new_browser, wx):
    _base, _st = wx
    start = await browser.get("/api/wechat/authorize", params={"scope": "base"})
    async with httpx.AsyncClient() as wechat:
        agreed = await wechat.get(start.headers["location"].split("#", 1)[0])
    back = httpx.URL(agreed.headers["location"])
    # An attacker's browser replaying the victim's redirect: the state is bound to the victim's browser.
    async with new_browser() as attacker:
        forged = await attacker.get(back.path, params=dict(back.params))
        assert forged.status_code == 400 and forged.json()["code"] == "wechat_state_invalid"
        assert forged.json()["detail_zh"] == "微信登录已失效，请重新进入"
    # A made-up state in the right browser.
    made_up = await browser.get(back.path, params={"code": back.params["code"], "state": "0" * 32})
    assert made_up.status_code == 400
    # The genuine one works once...
    ok = await browser.get(back.path, params=dict(back.params))
    assert ok.status_code == 302
    # ... and never again.
    replay = await browser.get(back.path, params=dict(back.params))
    assert replay.status_code == 400 and replay.json()["code"] == "wechat_state_invalid"


async def test_declined_userinfo_and_bad_codes(browser, wx):
    _base, st = wx
    st.decline_userinfo = True
    declined = await through_wechat(browser, scope="userinfo")
    assert declined.status_code == 401 and declined.json()["code"] == "wechat_declined"
    st.decline_userinfo = False
    start = await browser.get("/api/wechat/authorize", params={"scope": "base"})
    state = httpx.URL(start.headers["location"].split("#")[0]).params["state"]
    wrong = await browser.get("/api/wechat/callback", params={"code": "not-a-code", "state": state})
    assert wrong.status_code == 400 and wrong.json()["code"] == "wechat_code_invalid"


async def test_bad_next_and_missing_pending(browser, wx):
    for bad in ("https://evil.example/", "//evil.example", "/api/me", "/x\\y"):
        r = await browser.get("/api/wechat/authorize", params={"next": bad})
        assert r.status_code == 400, bad
    r = await browser.get("/api/wechat/authorize", params={"scope": "other"})
    assert r.status_code == 400
    r = await browser.post("/api/wechat/bind", json={"phone": random_phone(), "code": "123456"})
    assert r.status_code == 409 and r.json()["code"] == "wechat_binding_expired"


async def test_unbind_from_mine(browser, new_browser, db, wx, sms_log):
    await through_wechat(browser)
    assert (await _bind(browser, sms_log, random_phone())).status_code == 200
    csrf = browser.cookies["dq_csrf"]
    gone = await browser.delete("/api/me/wechat", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 200 and gone.json() == {"unbound": True}
    assert (await browser.get("/api/me/wechat")).json()["bound"] is False
    # WeChat no longer signs this person in: it asks for the phone again.
    async with new_browser() as later:
        back = await through_wechat(later)
        assert back.headers["location"].startswith("/wechat/bind")
    assert await db.scalar(select(func.count()).select_from(WeChatPendingBinding)) >= 1


async def test_without_wechat_the_routes_say_so(client):
    status = await client.get("/api/wechat/status")
    assert status.status_code == 200 and status.json()["enabled"] is False
    for path in ("/api/wechat/authorize", "/api/wechat/callback?state=x&code=y"):
        r = await client.get(path)
        assert r.status_code == 404 and r.json()["detail_zh"] == "未开通微信登录", path
    r = await client.get("/api/wechat/jssdk-config", params={"url": "http://127.0.0.1:8000/"})
    assert r.status_code == 404 and r.json()["code"] == "wechat_not_enabled"


async def test_expired_states_and_pending_bindings_are_purged(db, wx_settings):
    import datetime as dt

    from backend.wechat.models import WeChatOAuthState
    from backend.wechat.service import purge_states

    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    db.add(WeChatOAuthState(state_hash=b"s" * 32, browser_hash=b"b" * 32, next_path="/", expires_at=old))
    db.add(
        WeChatPendingBinding(token_hash=b"t" * 32, openid="o-old", scope="snsapi_base", next_path="/", expires_at=old)
    )
    await db.flush()
    assert await purge_states(db, wx_settings) == 2
    assert (
        await db.scalar(
            select(func.count()).select_from(WeChatPendingBinding).where(WeChatPendingBinding.openid == "o-old")
        )
        == 0
    )
