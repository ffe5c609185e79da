"""Critical news falls back to SMS, end to end: real app processes, the push service of the realtime
tests, and the local SMS gateway (which verifies the SDK's signatures and counts what it received).

* a push the service worker acknowledged in time: no SMS;
* no acknowledgement: exactly one SMS, after SMS_FALLBACK_AFTER;
* no push subscription: an SMS at once;
* the SMS names no child and no notice title, and links into the app by a random token;
* the person sees "已通过短信通知"; only they can open the link.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.live import live_server, scratch_database
from tests.notify.helpers import all_sms_decided, app_env, phone_of, urgent_notice, wait_until
from tests.realtime.test_live_updates import auth
from tests.realtime.test_push import Browser, subscribe
from tests.smsgateway import TEMPLATE_URGENT, sms_gateway
from tests.world import World

SECRET_TITLE = "小明发烧请假"  # a notice title the SMS must not carry


@pytest.fixture(scope="module")
def database(server_url):
    with scratch_database(server_url, demo=False) as url:
        yield url


async def test_acknowledged_push_means_no_sms_and_silence_means_exactly_one(database, push_service, tmp_path):
    async with sms_gateway() as gw:
        with live_server(database, tmp_path, **app_env(gw, push_service)) as server:
            world = await World(database, slots_tomorrow=False).build()
            care = await world.care_class()
            acking, acking_token = await world.placed_family(care)
            silent, silent_token = await world.placed_family(care)
            pushless, pushless_token = await world.placed_family(care)
            phones = {
                name: await phone_of(database, a)
                for name, a in (("ack", acking), ("silent", silent), ("none", pushless))
            }
            browsers = {"ack": Browser(), "silent": Browser()}
            await subscribe(server, acking_token, push_service.endpoint("ack"), browsers["ack"])
            await subscribe(server, silent_token, push_service.endpoint("silent"), browsers["silent"])

            published = time.monotonic()
            notice_id = await urgent_notice(server, world, SECRET_TITLE)

            # The phone that acknowledges: its service worker shows the push and reports it.
            (request,) = await push_service.wait_for("ack")
            assert request.headers["urgency"] == "high"
            payload = browsers["ack"].decrypt(request.body)
            assert payload["urgency"] == "critical" and payload["ack"]
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                r = await http.post("/api/notify/ack", json={"token": payload["ack"]})  # no session: the token
                assert r.status_code == 200, r.text
                assert r.json() in (
                    {"acknowledged": True, "sms": "cancelled"},
                    {"acknowledged": True, "sms": "not_planned"},
                )
                forged = payload["ack"][:-1] + ("0" if payload["ack"][-1] != "0" else "1")
                assert (await http.post("/api/notify/ack", json={"token": forged})).status_code == 404
                assert (await http.post("/api/notify/ack", json={"token": "x"})).status_code == 400

            # No push subscription: an SMS at once, well before the fallback window.
            await gw.wait_for(lambda g: g.delivered(phones["none"]), timeout=10)
            # The silent phone: one SMS, after the window.
            await gw.wait_for(lambda g: g.delivered(phones["silent"]), timeout=20)
            assert gw.delivered(phones["silent"])[0].at - published >= 3.0
            decided = await wait_until(lambda: all_sms_decided(database, 3), what="every SMS decided")

            assert len(gw.delivered(phones["ack"])) == 0
            assert len(gw.delivered(phones["silent"])) == 1 and len(gw.delivered(phones["none"])) == 1
            assert gw.bad_signatures == 0
            by_account = {r.account_id: r for r in decided}
            assert (by_account[acking].status, by_account[acking].detail) == ("skipped", "acknowledged")
            assert (by_account[silent].status, by_account[silent].detail) == ("sent", "not_acknowledged")
            assert (by_account[pushless].status, by_account[pushless].detail) == ("sent", "no_push")

            # What the SMS says: the kind of news and a link with a random token — no title, no child, no id.
            sms = gw.delivered(phones["silent"])[0]
            assert sms.template == TEMPLATE_URGENT
            title, link = sms.params
            assert title == "紧急通知" and SECRET_TITLE not in link and notice_id not in link
            # PUBLIC_BASE_URL (the live server's own URL) + /n/<token>
            assert re.fullmatch(re.escape(server.base_url) + r"/n/[A-Za-z0-9_-]{11}", link)
            token = link.rsplit("/", 1)[1]

            async with httpx.AsyncClient(base_url=server.base_url) as http:
                # Only the person it was sent to may follow the link.
                assert (await http.get(f"/api/notify/links/{token}", headers=auth(acking_token))).status_code == 404
                assert (await http.get(f"/api/notify/links/{token}")).status_code == 401
                r = await http.get(f"/api/notify/links/{token}", headers=auth(silent_token))
                assert r.status_code == 200 and r.json() == {"url": f"/notices/{notice_id}"}
                log = (await http.get("/api/me/notification-log", headers=auth(silent_token))).json()
                assert {"channel": "sms", "status_zh": "已通过短信通知，并已打开链接"}.items() <= next(
                    e for e in log if e["channel"] == "sms"
                ).items()
                log = (await http.get("/api/me/notification-log", headers=auth(pushless_token))).json()
                assert [e["status_zh"] for e in log if e["channel"] == "sms"] == ["已通过短信通知"]
                channels = (await http.get("/api/me/notification-channels", headers=auth(pushless_token))).json()
                assert channels["push_devices"] == 0 and channels["sms_enabled"] is True
                assert channels["phone_masked"] == phones["none"][:3] + "****" + phones["none"][-4:]
                assert channels["sms_today"] == 1
        assert SECRET_TITLE not in server.log() and phones["silent"] not in server.log()
