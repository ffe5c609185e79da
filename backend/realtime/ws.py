"""``/ws``: one WebSocket per device, hearing what its account may hear, resumable.

Handshake: the account is known from a single-use ``ticket`` (``POST /api/realtime/ticket``), the
session cookie, or a bearer token; the ``Origin`` header must be an allowed origin (and is required
with the cookie, against cross-site WebSocket hijacking). Otherwise the handshake is refused before
``accept`` (HTTP 403).

Messages to the client are JSON: ``{"type": "event", "id": <position>, ...}`` (see
``events.Message``), ``{"type": "ready", "last_event_id": n}`` once resumed, and
``{"type": "heartbeat"}`` when idle. Resume with ``?last_event_id=n``: the events after ``n`` that
this account may hear come first, exactly once and in order, then live ones. The client may send
``{"type": "ping"}``; at most 20 messages per 10 seconds, each at most WS_MAX_MESSAGE_BYTES.

The socket closes with 4401 when its session is revoked or expires (the app stops until the next
sign-in), 4429 when its account opened more than WS_MAX_PER_ACCOUNT sockets (10; the oldest is
closed, per app process; the app does not reconnect it), 4409 when one of the account's role grants is removed or changed (the app reconnects and
hears what the account still may), 1013 when the client reads too slowly for the bounded queue, 1008
when it sends too much or a message that is not a JSON object with a ``type`` (also for a
``last_event_id`` that is not an integer from 0 to 2^63-1), 1003 for a binary message, 1009 for an
oversized message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromQuery
from sqlalchemy import select

from backend.core.authz import SIGNED_IN, Principal, action, requires
from backend.core.outbox import Event
from backend.realtime.events import audience_sql, category_of, message_for
from backend.realtime.hub import Connection, Hub

CONNECT = action("realtime.connect", "receive live updates", roles=SIGNED_IN)
CLIENT_MESSAGES_PER_WINDOW = 20
CLIENT_WINDOW_S = 10.0
REPLAY_BATCH = 500


def _origin_allowed(socket: WebSocket[Any, Any, Any], principal: Principal) -> bool:
    allowed = socket.app.state.settings.allowed_origins
    origin = socket.headers.get("origin")
    if origin is None:
        return not principal.via_cookie  # a cookie must come from one of our pages
    return origin.rstrip("/") in allowed


async def _replay(socket: WebSocket[Any, Any, Any], connection: Connection, after: int) -> None:
    """Send the events after ``after`` that the account may hear (and has not muted), oldest first,
    straight to the socket (the sender task has not started yet)."""
    maker = socket.app.state[socket.app.state.alchemy.session_maker_app_state_key]
    connection.last_sent = after
    while True:
        async with maker() as db:
            rows = (
                (
                    await db.execute(
                        select(Event)
                        .where(Event.position > connection.last_sent, audience_sql(connection.principal))
                        .order_by(Event.position)
                        .limit(REPLAY_BATCH)
                    )
                )
                .scalars()
                .all()
            )
        for event in rows:
            if connection.wants(event.position, category_of(event.subject_type), event.urgency):
                await socket.send_text(msgspec.json.encode(message_for(event)).decode())
            connection.last_sent = event.position
        if len(rows) < REPLAY_BATCH:
            return


_POSITION = re.compile(r"[0-9]{1,19}")
MAX_POSITION = 2**63 - 1  # event positions are PostgreSQL bigints


def _resume_position(raw: str | None) -> int | None:
    """``?last_event_id=``: absent, or a position 0 … 2^63-1; ValueError otherwise."""
    if raw is None:
        return None
    if not _POSITION.fullmatch(raw) or int(raw) > MAX_POSITION:
        raise ValueError(raw)
    return int(raw)


@websocket("/ws", opt=requires(CONNECT), tags=["realtime · 实时"])
async def live(socket: WebSocket[Any, Any, Any], last_event_id: FromQuery[str | None] = None) -> None:
    principal: Principal | None = socket.scope.get("user")
    settings = socket.app.state.settings
    hub: Hub = socket.app.state.hub
    if principal is None or not _origin_allowed(socket, principal):
        await socket.close(code=4403, reason="forbidden")  # before accept: the handshake gets 403
        return
    await socket.accept()
    try:
        resume_after = _resume_position(last_event_id)
    except ValueError:
        await socket.close(code=1008, reason="bad last_event_id: an integer from 0 to 2^63-1")
        return

    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=settings.ws_queue_size)
    closed = asyncio.Event()

    async def close(code: int, reason: str) -> None:
        if not closed.is_set():
            closed.set()
            with contextlib.suppress(Exception):
                await socket.close(code=code, reason=reason)

    connection = Connection(principal=principal, queue=queue, close=close, pending=[])
    connection.muted = await hub.muted_categories(principal.account_id)
    hub.register(connection, principal.session_id, per_account=settings.ws_max_per_account)
    registered_at = hub.position  # everything after this reaches ``pending``
    tasks: list[asyncio.Task[Any]] = []
    try:
        # Live events arriving meanwhile wait in ``pending``; replay, then release them in order.
        if resume_after is not None:
            await _replay(socket, connection, resume_after)
        else:
            connection.last_sent = registered_at
        await socket.send_text(msgspec.json.encode({"type": "ready", "last_event_id": connection.last_sent}).decode())
        if not connection.finish_replay():
            await close(1013, "too slow: messages were not read")
            return

        tasks = [
            asyncio.create_task(_send(socket, queue)),
            asyncio.create_task(_heartbeat(queue, settings.ws_heartbeat_s, close)),
            asyncio.create_task(_receive(socket, settings.ws_max_message_bytes, close)),
        ]
        expires = principal.session_expires_at
        if expires is not None:
            delay = (expires - dt.datetime.now(dt.UTC)).total_seconds()
            tasks.append(asyncio.create_task(_close_after(max(0.0, delay), close)))
        tasks.append(asyncio.create_task(closed.wait()))
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.unregister(connection, principal.session_id)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await close(1000, "bye")


async def _send(socket: WebSocket[Any, Any, Any], queue: asyncio.Queue[str | None]) -> None:
    """The socket's only writer: messages in queue order."""
    while True:
        message = await queue.get()
        if message is None:
            return
        await socket.send_text(message)


class ClientMessage(msgspec.Struct):
    """What a client may send: ``{"type": "ping"}``; other types are ignored (newer clients)."""

    type: str


HEARTBEAT = msgspec.json.encode({"type": "heartbeat"}).decode()


async def _heartbeat(queue: asyncio.Queue[str | None], every_s: float, close: Any) -> None:
    """A heartbeat every ``every_s`` seconds, through the queue (so it also tells a stuck reader)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            queue.put_nowait(HEARTBEAT)
        except asyncio.QueueFull:
            await close(1013, "too slow: messages were not read")
            return


async def _receive(socket: WebSocket[Any, Any, Any], max_bytes: int, close: Any) -> None:
    window_start, count = time.monotonic(), 0
    pong = msgspec.json.encode({"type": "pong"}).decode()
    while True:
        try:
            event = await socket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if event["type"] == "websocket.disconnect":
            return
        text = event.get("text")
        if text is None:
            await close(1003, "bad message: send JSON text, not binary")
            return
        if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            await close(1009, "message too big")
            return
        now = time.monotonic()
        if now - window_start > CLIENT_WINDOW_S:
            window_start, count = now, 0
        count += 1
        if count > CLIENT_MESSAGES_PER_WINDOW:
            await close(1008, "too many messages")
            return
        try:
            message = msgspec.json.decode(text, type=ClientMessage)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError):
            await close(1008, 'bad message: expected a JSON object such as {"type": "ping"}')
            return
        if message.type == "ping":
            await socket.send_text(pong)


async def _close_after(delay: float, close: Any) -> None:
    await asyncio.sleep(delay)
    await close(4401, "session expired")
