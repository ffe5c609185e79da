"""A notice reaches its audience live: over a real server's WebSocket, and as a Web Push payload
that carries no words of the author's."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import msgspec
import pytest
from sqlalchemy import select

from backend.core.outbox import Event
from backend.realtime.push import payload_for
from tests.live import live_server, scratch_database
from tests.realtime.test_live_updates import auth, next_message, open_socket
from tests.world import World, account, execute

SECRET_TITLE = "园内发现水痘病例"  # must never leave through a push service


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    logs = tmp_path_factory.mktemp("notices")
    with scratch_database(server_url, demo=False) as url, live_server(url, logs, PUSH_WORKER="false") as s:
        yield s


async def test_an_urgent_notice_reaches_its_parents_socket_at_once_and_no_one_elses(server):
    world = await World(server.database_url, slots_tomorrow=False).build()
    _parent, parent_token = await world.placed_family(await world.care_class())
    _outsider, outsider_token = await account(world.url, "parent")

    parent_ws = await open_socket(server, parent_token)
    outsider_ws = await open_socket(server, outsider_token)
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            r = await http.post(
                f"/api/institutions/{world.inst}/notices",
                headers=auth(world.staff),
                json={"title": SECRET_TITLE, "body": "请家长留意孩子体温。", "urgent": True},
            )
            assert r.status_code == 201, r.text
            notice_id = r.json()["id"]
        message = await next_message(parent_ws, skip=("heartbeat", "pong", "ready"))
        assert message["event"] == "notice.published" and message["category"] == "notices"
        assert message["urgency"] == "high" and message["title_zh"] == "紧急通知"
        assert message["url"] == f"/notices/{notice_id}"
        assert SECRET_TITLE not in msgspec.json.encode(message).decode()
        # The outsider's socket hears nothing of it (a ping proves the socket is live and in order).
        await outsider_ws.send(msgspec.json.encode({"type": "ping"}).decode())
        reply = await next_message(outsider_ws, skip=("heartbeat", "ready"))
        assert reply["type"] == "pong"
    finally:
        await asyncio.gather(parent_ws.close(), outsider_ws.close())

    (event,) = await execute(world.url, select(Event).where(Event.subject_id == uuid.UUID(notice_id)))
    push = payload_for(event)  # what the push worker would send for it
    assert msgspec.json.decode(push)["title"] == "紧急通知"
    assert SECRET_TITLE not in push.decode()
