"""The per-process hub: one LISTEN connection, the outbox read in order, local fan-out to sockets.

Every app process runs one hub. It keeps one asyncpg connection that LISTENs on ``dq_events`` (a
committed event's position), ``dq_sessions`` (a revoked session), ``dq_grants`` (an account's role
grant removed or changed) and ``dq_prefs`` (changed preferences). On a notification it reads the
outbox from its last position, in order, and hands each event to the local connections allowed to
hear it (``events.audience_allows`` and the account's preferences). Notifications only wake the
reader; the outbox is the truth, so a lost or coalesced notification costs nothing. When the
listening connection drops (network, restart, ``pg_terminate_backend``) the hub reconnects with
exponential backoff and catches up from its last position. (Litestar 2.x's PostgreSQL channel
backends are not used: they do not reconnect and keep no history — litestar issue 4110.)

A connection's queue is bounded: a client that cannot keep up is disconnected, not buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from backend.core import metrics
from backend.core.authz import Principal
from backend.core.errors import database_unreachable
from backend.core.pgserver import asyncpg_dsn
from backend.realtime.events import audience_allows, category_of, message_for
from backend.realtime.service import muted_categories

log = logging.getLogger("backend.realtime")

EVENT_COLUMNS = (
    "id, position, type, subject_type, subject_id, account_ids, institution_id, department_codes, unit_code,"
    " urgency, payload, created_at"
)


@dataclass(slots=True)
class StoredEvent:
    id: int
    position: int
    type: str
    subject_type: str
    subject_id: uuid.UUID
    account_ids: list[uuid.UUID]
    institution_id: uuid.UUID | None
    department_codes: list[str]
    unit_code: int | None
    urgency: str
    payload: dict[str, Any]
    created_at: Any

    @classmethod
    def from_record(cls, r: Any) -> StoredEvent:
        payload = r["payload"]
        return cls(
            id=r["id"],
            position=r["position"],
            type=r["type"],
            subject_type=r["subject_type"],
            subject_id=r["subject_id"],
            account_ids=list(r["account_ids"]),
            institution_id=r["institution_id"],
            department_codes=list(r["department_codes"]),
            unit_code=r["unit_code"],
            urgency=r["urgency"],
            payload=msgspec.json.decode(payload) if isinstance(payload, (str, bytes)) else payload,
            created_at=r["created_at"],
        )


_OPENED = itertools.count()
TOO_MANY_SOCKETS = 4429  # close code for the oldest socket when an account opens one too many


@dataclass(eq=False)
class Connection:
    """One WebSocket as the hub sees it.

    While the socket resumes from the outbox, live events wait in ``pending``; ``last_sent`` makes
    sure nothing is sent twice and everything goes out in position order."""

    principal: Principal
    queue: asyncio.Queue[str | None]
    close: Callable[[int, str], Awaitable[None]]
    muted: set[str] = field(default_factory=set)  # categories switched off for WebSocket
    last_sent: int = 0
    closing: bool = False
    pending: list[tuple[int, str, str, str]] | None = None
    opened: int = field(default_factory=lambda: next(_OPENED))  # order of registration (oldest first)

    def wants(self, position: int, category: str, urgency: str) -> bool:
        return position > self.last_sent and (category not in self.muted or urgency == "high")

    def offer(self, position: int, category: str, urgency: str, message: str) -> bool:
        """Queue a live message; False if the client is too slow (the caller then disconnects it)."""
        if self.pending is not None:
            if len(self.pending) >= self.queue.maxsize:
                return False
            self.pending.append((position, category, urgency, message))
            return True
        if not self.wants(position, category, urgency):
            return True
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        self.last_sent = position
        return True

    def finish_replay(self) -> bool:
        """Release the live events that arrived during the replay (those not already sent)."""
        items, self.pending = sorted(self.pending or [], key=lambda item: item[0]), None
        return all(self.offer(*item) for item in items)


class Hub:
    def __init__(self, database_url: str, session_maker: Callable[[], Any]) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.session_maker = session_maker
        self.position = 0
        self.connected = asyncio.Event()
        self.new_events = asyncio.Event()  # the push worker waits on this too
        self._wake = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._by_account: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        self._by_institution: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        self._by_department: dict[str, set[Connection]] = defaultdict(set)
        self._city_admins: set[Connection] = set()
        self._by_session: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        self._dirty_prefs: set[uuid.UUID] = set()
        self.reconnects = 0
        # The listening connection also serves the outbox reads and the keepalive; asyncpg allows one
        # operation at a time on a connection, so they take turns.
        self._conn_busy = asyncio.Lock()

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen_forever()), asyncio.create_task(self._read_forever())]
        # Start at the current end of the outbox: earlier events are history, served by resume.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def _listen_forever(self) -> None:
        delay = 0.1
        first = True
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(
                    self.dsn, timeout=10, server_settings={"application_name": "daqing-listener"}
                )
                self._lost.clear()
                conn.add_termination_listener(lambda _c: self._lost.set())
                await conn.add_listener("dq_events", self._on_event)
                await conn.add_listener("dq_sessions", self._on_session)
                await conn.add_listener("dq_grants", self._on_grants)
                await conn.add_listener("dq_prefs", self._on_prefs)
                if first:
                    self.position = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))
            except Exception as exc:  # refused, starting up, killed while setting up …: try again later
                log.warning("listener: cannot connect (%s); retrying in %.1fs", type(exc).__name__, delay)
                if conn is not None:
                    conn.terminate()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if first:
                first = False
            else:
                self.reconnects += 1
                log.warning("listener: reconnected; catching up from position %d", self.position)
            self._conn = conn
            delay = 0.1
            self.connected.set()
            self._wake.set()  # catch up on whatever was committed while not listening
            await self._watch(conn)
            self.connected.clear()
            with contextlib.suppress(Exception):
                await conn.close()

    async def _watch(self, conn: asyncpg.Connection) -> None:
        """Return when the listening connection is gone (terminated, or silent to a keepalive)."""
        while not self._lost.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=15)
            if self._lost.is_set():
                return
            try:  # a half-open connection (network trouble) only shows when used
                async with self._conn_busy:
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=10)
            except Exception:
                return

    # ------------------------------------------------------------------------------------ notifications

    def _on_event(self, *_: Any) -> None:
        self._wake.set()
        self.new_events.set()

    def _on_session(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            for connection in list(self._by_session.get(uuid.UUID(payload), ())):
                self._disconnect(connection, 4401, "session ended")

    def _on_grants(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        # A role grant was removed or changed (e.g. taken off a staff roster): the account's sockets
        # were registered with the old grants, so they close (4409); the app reconnects and hears only
        # what the account still may.
        with contextlib.suppress(ValueError):
            for connection in list(self._by_account.get(uuid.UUID(payload), ())):
                self._disconnect(connection, 4409, "access changed")

    def _on_prefs(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        # Applied by the reader before it reads further events: a change committed before an event
        # is in force when that event is dispatched.
        with contextlib.suppress(ValueError):
            account = uuid.UUID(payload)
            if self._by_account.get(account):
                self._dirty_prefs.add(account)
                self._wake.set()

    async def _reload_prefs(self, account: uuid.UUID) -> None:
        muted = await self.muted_categories(account)
        for connection in self._by_account.get(account, ()):
            connection.muted = muted

    async def muted_categories(self, account: uuid.UUID) -> set[str]:
        async with self.session_maker() as db:
            return await muted_categories(db, account, channel="websocket")

    # ------------------------------------------------------------------------------------ reading

    async def _read_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            conn = self._conn
            if conn is None or conn.is_closed():
                continue
            try:
                while self._dirty_prefs:
                    await self._reload_prefs(self._dirty_prefs.pop())
                while True:
                    async with self._conn_busy:
                        rows = await conn.fetch(
                            f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT 500",
                            self.position,
                        )
                    for row in rows:
                        event = StoredEvent.from_record(row)
                        self._dispatch(event)
                        self.position = event.position
                    if len(rows) < 500:
                        break
            except Exception as exc:
                # Nothing is lost: the outbox is read again from ``self.position`` — at once after the
                # listener reconnects, or here after a pause if the connection still looks alive.
                if database_unreachable(exc):
                    log.warning("hub: reading the outbox failed (%s); will retry", type(exc).__name__)
                else:
                    log.warning("hub: reading the outbox failed; will retry", exc_info=True)
                await asyncio.sleep(1.0)
                self._wake.set()

    def _dispatch(self, event: StoredEvent) -> None:
        targets: set[Connection] = set()
        for account in event.account_ids:
            targets |= self._by_account.get(account, set())
        if event.institution_id is not None:
            targets |= self._by_institution.get(event.institution_id, set())
        for department in event.department_codes:
            targets |= self._by_department.get(department, set())
        if event.department_codes:
            targets |= self._city_admins
        if not targets:
            return
        message = msgspec.json.encode(message_for(event)).decode()  # once, for every socket
        category = category_of(event.subject_type)
        for connection in targets:
            if connection.closing or not audience_allows(connection.principal, event):
                continue
            if not connection.offer(event.position, category, event.urgency, message):
                self._disconnect(connection, 1013, "too slow: messages were not read")

    # ------------------------------------------------------------------------------------ registry

    def register(self, connection: Connection, session_id: uuid.UUID, *, per_account: int | None = None) -> None:
        """Add a socket; beyond ``per_account`` open sockets of one account (in this process), the
        oldest is closed with 4429."""
        p = connection.principal
        mine = self._by_account[p.account_id]
        mine.add(connection)
        if per_account is not None:
            live = sorted((c for c in mine if not c.closing), key=lambda c: c.opened)
            for oldest in live[: max(0, len(live) - per_account)]:
                self._disconnect(oldest, TOO_MANY_SOCKETS, "too many connections: this one was the oldest")
        for institution in p.institutions():
            self._by_institution[institution].add(connection)
        for department, _unit in p.officer_scopes():
            self._by_department[department].add(connection)
        if p.is_city_admin:
            self._city_admins.add(connection)
        self._by_session[session_id].add(connection)
        metrics.websocket_opened()

    def unregister(self, connection: Connection, session_id: uuid.UUID) -> None:
        p = connection.principal
        self._by_account.get(p.account_id, set()).discard(connection)
        for institution in p.institutions():
            self._by_institution.get(institution, set()).discard(connection)
        for department, _unit in p.officer_scopes():
            self._by_department.get(department, set()).discard(connection)
        self._city_admins.discard(connection)
        sockets = self._by_session.get(session_id, set())
        if connection in sockets:
            sockets.discard(connection)
            metrics.websocket_closed()

    def _disconnect(self, connection: Connection, code: int, reason: str) -> None:
        if connection.closing:
            return
        connection.closing = True
        asyncio.get_running_loop().create_task(connection.close(code, reason))

    @property
    def connection_count(self) -> int:
        return sum(len(s) for s in self._by_session.values())
