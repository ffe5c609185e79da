"""WeChat subscription messages as a channel of the notification pipeline, end to end: a real app
process, the local SMS gateway and the local WeChat server (tests/wechat/server.py), which checks the
access_token, the template and the person's subscription like WeChat does.

* a person bound to WeChat and subscribed to the kind gets exactly one message per event, with no
  child's name and no notice title in it, opening the event's page; their log says "已通过微信通知";
* WeChat's "refused" (43101) turns that person's channel off and the row fails with ``refused``;
* a person who switched WeChat off for the category in 通知方式 gets no WeChat row;
* an expired access_token is refreshed and the send retried (one message, not two);
* a rate limit (45011) puts the row back in the queue with the back-off as its next attempt;
* the outcomes are counted in /metrics; the SMS fallback of the critical event is not affected;
* two app processes send each person's message exactly once.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.live import live_server, scratch_database
from tests.notify.helpers import app_env, rows, urgent_notice, wait_until
from tests.realtime.test_live_updates import auth
from tests.smsgateway import sms_gateway
from tests.wechat.conftest import NOTICE_TEMPLATE
from tests.wechat.server import APP_ID, APP_SECRET, wechat_server
from tests.world import World

SECRET_TITLE = "小明发烧请假"


@pytest.fixture(scope="module")
def database(server_url):
    with scratch_database(server_url, demo=False) as url:
        yield url


async def bind(url: str, account_id: uuid.UUID, kinds: tuple[str, ...] = ("notices",)) -> str:
    """The state the sign-in and subscription routes leave (tests/wechat covers those flows)."""
    openid = "o" + secrets.token_hex(13)
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "WITH i AS (INSERT INTO wechat_identities (account_id, openid, scope) VALUES (:a, :o, 'snsapi_base')"
                " RETURNING account_id) INSERT INTO wechat_subscriptions (account_id, event_kind)"
                " SELECT i.account_id, k FROM i, unnest(CAST(:kinds AS text[])) k"
            ),
            {"a": account_id, "o": openid, "kinds": list(kinds)},
        )
    await engine.dispose()
    return openid


async def wechat_rows(url: str) -> dict[uuid.UUID, list]:
    out: dict[uuid.UUID, list] = {}
    for r in await rows(
        url,
        "SELECT d.account_id, d.event_id, d.status, d.detail, d.attempts, d.due_at FROM notify_deliveries d"
        " WHERE d.channel = 'wechat' ORDER BY d.id",
    ):
        out.setdefault(r.account_id, []).append(r)
    return out


async def test_wechat_is_one_more_channel_of_the_pipeline(database, tmp_path):
    async with sms_gateway() as gw:
        with wechat_server(templates={NOTICE_TEMPLATE}) as (api_base, wx):
            env = app_env(
                gw,
                WECHAT_APP_ID=APP_ID,
                WECHAT_APP_SECRET=APP_SECRET,
                WECHAT_API_BASE=api_base,
                WECHAT_OAUTH_BASE=api_base,
                WECHAT_TEMPLATES=f"notices={NOTICE_TEMPLATE}:thing1/title,time2/time",
            )
            with live_server(database, tmp_path, **env) as server:
                world = await World(database, slots_tomorrow=False).build()
                care = await world.care_class()
                fan, fan_token = await world.placed_family(care)
                refusing, _ = await world.placed_family(care)
                opted_out, opted_out_token = await world.placed_family(care)
                fan_openid = await bind(database, fan)
                refusing_openid = await bind(database, refusing)
                await bind(database, opted_out)
                wx.subscriptions[fan_openid] = {NOTICE_TEMPLATE}
                wx.subscriptions[refusing_openid] = set()  # WeChat answers 43101 for this person
                async with httpx.AsyncClient(base_url=server.base_url) as http:
                    r = await http.put(
                        "/api/me/notification-preferences",
                        headers=auth(opted_out_token),
                        json={
                            "preferences": [{"category": "notices", "websocket": True, "push": True, "wechat": False}]
                        },
                    )
                    assert r.status_code == 200, r.text
                    assert next(p for p in r.json()["preferences"] if p["category"] == "notices")["wechat"] is False

                notice_id = await urgent_notice(server, world, SECRET_TITLE)

                async def decided():
                    found = await wechat_rows(database)
                    settled = [r for rs in found.values() for r in rs if r.status not in ("queued", "sending")]
                    return found if len(settled) >= 2 else None

                found = await wait_until(decided, what="both WeChat rows decided")
                assert [(r.status, r.detail) for r in found[fan]] == [("sent", None)]
                assert [(r.status, r.detail) for r in found[refusing]] == [("failed", "refused")]
                assert opted_out not in found
                ((channel_on, reason),) = await rows(
                    database,
                    "SELECT channel_on, channel_off_reason FROM wechat_identities WHERE account_id = :a",
                    a=refusing,
                )
                assert channel_on is False and reason == "wechat:43101"

                (message,) = wx.sent
                assert message["touser"] == fan_openid and message["template_id"] == NOTICE_TEMPLATE
                assert message["page"] == f"{server.base_url}/notices/{notice_id}"  # PUBLIC_BASE_URL + the page
                assert message["data"]["thing1"]["value"] == "紧急通知"
                assert "年" in message["data"]["time2"]["value"]
                assert SECRET_TITLE not in str(message)

                async with httpx.AsyncClient(base_url=server.base_url) as http:
                    log = (await http.get("/api/me/notification-log", headers=auth(fan_token))).json()
                    assert [e["status_zh"] for e in log if e["channel"] == "wechat"] == ["已通过微信通知"]
                    # The critical event's SMS fallback is decided as before (WeChat has no display ack).
                    sms = [e for e in log if e["channel"] == "sms"]
                    assert len(sms) == 1

                # An expired token is refreshed and the send retried once: one message for the next event.
                wx.expire_access_token()
                second = await urgent_notice(server, world, "园所今日停水")

                async def second_sent():
                    found = await wechat_rows(database)
                    return len(found.get(fan, [])) == 2 and found[fan][1].status == "sent"

                await wait_until(second_sent, what="the second message sent")
                assert [m["page"].rsplit("/", 1)[1] for m in wx.sent] == [notice_id, second]
                assert len(await wechat_rows(database)) == 2  # the refusing person's channel is off: no new row

                # A rate limit: the row goes back to the queue, due after WeChat's "next minute".
                wx.fail_next_bizsend.append(45011)
                await urgent_notice(server, world, "园所今日停电")

                async def backed_off():
                    found = await wechat_rows(database)
                    rs = found.get(fan, [])
                    return rs[2] if len(rs) == 3 and rs[2].status == "queued" and rs[2].attempts == 1 else None

                row = await wait_until(backed_off, what="the rate-limited row back in the queue")
                assert row.detail == "rate_limited"
                assert row.due_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=40)
                assert len(wx.sent) == 2

                async with httpx.AsyncClient(base_url=server.base_url) as http:
                    body = (await http.get("/metrics")).text
                assert 'dq_delivery_outcomes_total{channel="wechat",outcome="sent"}' in body
                assert 'dq_delivery_outcomes_total{channel="wechat",outcome="refused"}' in body
                assert 'dq_delivery_outcomes_total{channel="wechat",outcome="rate_limited"}' in body
            assert SECRET_TITLE not in server.log() and fan_openid not in server.log()


async def test_two_processes_send_each_wechat_message_exactly_once(database, tmp_path):
    n = 12
    async with sms_gateway() as gw:
        with wechat_server(templates={NOTICE_TEMPLATE}) as (api_base, wx):
            env = app_env(
                gw,
                WECHAT_APP_ID=APP_ID,
                WECHAT_APP_SECRET=APP_SECRET,
                WECHAT_API_BASE=api_base,
                WECHAT_OAUTH_BASE=api_base,
                WECHAT_TEMPLATES=f"notices={NOTICE_TEMPLATE}:thing1/title,time2/time",
            )
            world = await World(database, slots_tomorrow=False).build()
            care = await world.care_class()
            openids = []
            for _ in range(n):
                account, _token = await world.placed_family(care)
                openid = await bind(database, account)
                wx.subscriptions[openid] = {NOTICE_TEMPLATE}
                openids.append(openid)
            with live_server(database, tmp_path, **env) as a, live_server(database, tmp_path, **env):
                notice_id = await urgent_notice(a, world)

                async def all_sent():
                    (row,) = await rows(
                        database,
                        "SELECT count(*) FILTER (WHERE d.status = 'sent') AS sent FROM notify_deliveries d"
                        " JOIN events e ON e.id = d.event_id"
                        " WHERE d.channel = 'wechat' AND e.subject_id = CAST(:n AS uuid)",
                        n=notice_id,
                    )
                    return row.sent >= n

                await wait_until(all_sent, what="every WeChat message sent")
                ours = [m for m in wx.sent if m["page"].endswith(f"/notices/{notice_id}")]
                assert sorted(m["touser"] for m in ours) == sorted(openids)  # each exactly once, nobody missed
                ((rows_n, sent_n),) = await rows(
                    database,
                    "SELECT count(*), count(*) FILTER (WHERE d.status = 'sent') FROM notify_deliveries d"
                    " JOIN events e ON e.id = d.event_id WHERE d.channel = 'wechat' AND e.subject_id = CAST(:n AS uuid)",
                    n=notice_id,
                )
                assert rows_n == sent_n == n
