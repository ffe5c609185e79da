"""Subscription messages: the WeChat channel's sender against the local WeChat server."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import select

from backend.wechat.messages import Outcome, WeChatSender
from backend.wechat.models import WeChatIdentity, WeChatSubscription
from tests.conftest import _session_maker
from tests.wechat.conftest import BOOKING_TEMPLATE


@pytest.fixture
async def bound(factory, db, wx):
    """A parent whose WeChat is bound and who subscribed to booking reminders (in the app and in WeChat)."""
    _base, st = wx
    account = await factory.account()
    db.add(WeChatIdentity(account_id=account.id, openid=st.person.openid, scope="snsapi_base"))
    await db.flush()
    db.add(WeChatSubscription(account_id=account.id, event_kind="bookings"))
    await db.commit()
    st.subscriptions[st.person.openid] = {BOOKING_TEMPLATE}
    return account


@pytest.fixture
def send(db, conn, wx_settings):
    async def run(account_id: uuid.UUID, kind: str = "bookings", page: str = "/bookings", **fields: str):
        async with WeChatSender(wx_settings, _session_maker(conn)) as wechat:
            result = await wechat.send(
                db, account_id, kind, page, fields or {"title": "明天 9:00 的计时托预约", "time": "2026年12月8日 09:00"}
            )
        await db.commit()
        return result

    return run


async def test_a_message_carries_the_template_fields_and_opens_the_app(bound, send, wx, wx_settings):
    _base, st = wx
    result = await send(bound.id, title="您预约的计时托将于明天上午开始，请准时到达机构")
    assert result.outcome is Outcome.SENT and result.delivered
    [message] = st.sent
    assert message["touser"] == st.person.openid
    assert message["template_id"] == BOOKING_TEMPLATE
    assert message["page"] == wx_settings.public_base_url + "/bookings"
    assert set(message["data"]) == {"thing1", "time2"}
    assert len(message["data"]["thing1"]["value"]) == 20  # a thing keyword holds 20 characters
    with pytest.raises(ValueError, match="vocabulary"):
        await send(bound.id, child_name="小明")  # there is no field for a child's name
    with pytest.raises(ValueError, match="path"):
        await send(bound.id, page="//evil.example/")


async def test_only_kinds_the_person_subscribed_to(bound, send, factory, wx):
    _base, st = wx
    assert (await send(bound.id, kind="notices")).outcome is Outcome.NOT_SUBSCRIBED
    assert (await send(bound.id, kind="enrolment")).outcome is Outcome.NOT_ENABLED  # no template configured
    stranger = await factory.account()
    assert (await send(stranger.id)).outcome is Outcome.NOT_BOUND
    assert st.sent == [] and st.token_calls == 0  # none of these asked WeChat anything


async def test_a_refusal_turns_the_channel_off(bound, send, db, wx, browser, factory):
    _base, st = wx
    st.subscriptions[st.person.openid] = set()  # the person refused in WeChat's settings
    result = await send(bound.id)
    assert result.outcome is Outcome.REFUSED and result.errcode == 43101
    identity = (
        await db.execute(
            select(WeChatIdentity)
            .where(WeChatIdentity.account_id == bound.id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    assert identity.channel_on is False and identity.channel_off_reason == "wechat:43101"
    calls = st.token_calls
    assert (await send(bound.id)).outcome is Outcome.CHANNEL_OFF
    assert st.token_calls == calls and st.sent == []

    # Accepting again in WeChat's dialog (reported by the app) turns it back on.
    headers = {"Authorization": f"Bearer {await factory.token(bound)}"}
    mine = await browser.get("/api/me/wechat", headers=headers)
    assert mine.json()["channel_on"] is False
    st.subscriptions[st.person.openid] = {BOOKING_TEMPLATE}
    again = await browser.put("/api/me/wechat/subscriptions", headers=headers, json={"event_kinds": ["bookings"]})
    assert again.status_code == 200 and again.json()["channel_on"] is True
    assert (await send(bound.id)).outcome is Outcome.SENT
    bad = await browser.put("/api/me/wechat/subscriptions", headers=headers, json={"event_kinds": ["weather"]})
    assert bad.status_code == 400


async def test_an_expired_or_replaced_token_is_refreshed_once_and_the_send_retried(bound, send, wx):
    base, st = wx
    assert (await send(bound.id)).outcome is Outcome.SENT
    assert st.token_calls == 1
    st.expire_access_token()  # WeChat answers 42001
    assert (await send(bound.id)).outcome is Outcome.SENT
    assert st.token_calls == 2 and len(st.sent) == 2
    # Someone else fetched a token (e.g. a console tool): ours is no longer the latest (40001).
    import httpx

    async with httpx.AsyncClient() as http:
        other = await http.get(
            base + "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": st.app_id, "secret": st.app_secret},
        )
    assert "access_token" in other.json()
    assert (await send(bound.id)).outcome is Outcome.SENT
    assert st.token_calls == 4 and len(st.sent) == 3
    # Cached from now on: no further token calls.
    assert (await send(bound.id)).outcome is Outcome.SENT
    assert st.token_calls == 4


async def test_rate_limits_back_off(bound, send, wx):
    _base, st = wx
    st.fail_next_bizsend = [45011]
    minute = await send(bound.id)
    assert minute.outcome is Outcome.RATE_LIMITED and minute.retry_after_s == 60
    st.fail_next_bizsend = [45009]
    daily = await send(bound.id)
    assert daily.outcome is Outcome.RATE_LIMITED and 0 < daily.retry_after_s <= 24 * 3600 + 5
    assert (await send(bound.id)).outcome is Outcome.SENT  # the channel stays on


async def test_jssdk_config_signs_own_pages_only(browser, wx):
    _base, st = wx
    r = await browser.get("/api/wechat/jssdk-config", params={"url": "http://127.0.0.1:8000/care?x=1#top"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["url"] == "http://127.0.0.1:8000/care?x=1"  # without the fragment
    plain = f"jsapi_ticket={st.ticket}&noncestr={body['nonce_str']}&timestamp={body['timestamp']}&url={body['url']}"
    assert body["signature"] == hashlib.sha1(plain.encode()).hexdigest()
    again = await browser.get("/api/wechat/jssdk-config", params={"url": "http://127.0.0.1:8000/"})
    assert again.status_code == 200 and st.ticket_calls == 1 and st.token_calls == 1  # both cached
    for foreign in ("https://evil.example/care", "http://127.0.0.1:8001/", "javascript:alert(1)//127.0.0.1:8000"):
        refused = await browser.get("/api/wechat/jssdk-config", params={"url": foreign})
        assert refused.status_code == 400 and refused.json()["code"] == "wechat_url_not_allowed", foreign


async def test_export_has_the_binding_and_erasure_removes_it(bound, browser, factory, db, wx, sms_log):
    _base, st = wx
    headers = {"Authorization": f"Bearer {await factory.token(bound)}"}
    export = await browser.get("/api/me/export", headers=headers)
    assert export.status_code == 200
    assert [w["openid"] for w in export.json()["wechat_identities"]] == [st.person.openid]
    assert [w["event_kind"] for w in export.json()["wechat_subscriptions"]] == ["bookings"]
    assert (await browser.post("/api/auth/code", json={"phone": bound.phone})).status_code == 202
    erased = await browser.post("/api/me/erase", headers=headers, json={"code": sms_log(bound.phone)})
    assert erased.status_code == 200, erased.text
    assert await db.scalar(select(WeChatIdentity).where(WeChatIdentity.openid == st.person.openid)) is None
    assert await db.scalar(select(WeChatSubscription).where(WeChatSubscription.account_id == bound.id)) is None
