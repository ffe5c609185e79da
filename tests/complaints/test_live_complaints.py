"""An urgent complaint reaches the police and health officers' open apps at once (a real server),
and no other department's."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import msgspec
import pytest
from sqlalchemy import insert

from backend.accounts.models import Account, AuthSession, RoleGrant
from backend.core.security import new_session_token, token_digest
from tests.factories import random_phone
from tests.live import live_server, scratch_database
from tests.realtime.test_live_updates import next_message, open_socket
from tests.world import execute


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    logs = tmp_path_factory.mktemp("complaints")
    with scratch_database(server_url, demo=False) as url, live_server(url, logs, PUSH_WORKER="false") as s:
        yield s


async def officer(url: str, department: str) -> str:
    account_id, token = uuid.uuid4(), new_session_token()
    await execute(
        url,
        insert(Account).values(id=account_id, phone=random_phone()),
        insert(RoleGrant).values(account_id=account_id, role="officer", department_code=department),
        insert(AuthSession).values(
            account_id=account_id,
            token_hash=token_digest(token),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        ),
    )
    return token


async def test_an_urgent_complaint_reaches_police_and_health_live_and_not_market(server):
    url = server.database_url
    tokens = {d: await officer(url, d) for d in ("police", "health", "market")}
    sockets = {d: await open_socket(server, t) for d, t in tokens.items()}
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            r = await http.post(
                "/api/complaints",
                files=[
                    ("category", (None, "child_safety")),
                    ("description", (None, "看到老师打孩子。")),
                    ("lat", (None, "46.58")),
                    ("lng", (None, "125.20")),
                ],
            )
            assert r.status_code == 201, r.text
            complaint_id = r.json()["id"]
        for department in ("police", "health"):
            message = await next_message(sockets[department], skip=("heartbeat", "pong", "ready"))
            assert message["event"] == "complaint.received" and message["urgency"] == "high"
            assert message["subject"]["id"] == complaint_id and message["title_zh"] == "紧急投诉"
            assert "打孩子" not in msgspec.json.encode(message).decode()
        # The market officer's socket hears nothing of it: a ping round-trip shows it is live and empty.
        await sockets["market"].send(msgspec.json.encode({"type": "ping"}).decode())
        reply = await next_message(sockets["market"], skip=("heartbeat", "ready"))
        assert reply["type"] == "pong"
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets.values()))
