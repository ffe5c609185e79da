"""Database plumbing shared by every domain: the declarative base, the engine and the Litestar plugin.

Transactions: a request gets one ``AsyncSession`` (the advanced-alchemy plugin keeps it in the ASGI
scope, so the auth middleware and the handler share it). Services do their work and flush; the
route handler that called them commits (one transaction per request, like eVaka's controllers).
Anything not committed is rolled back when the response is sent, so a failing request writes
nothing. Every other commit is a named exception with a helper in ``core/tx.py`` (a refusal's trace, a
sign-in step, work outside requests, storage ordering, cleanup, a shared cache); a test fails on any other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from advanced_alchemy.routing import reset_routing_context
from asyncpg import exceptions as asyncpg_exc
from litestar.constants import HTTP_DISCONNECT, HTTP_RESPONSE_START, WEBSOCKET_CLOSE, WEBSOCKET_DISCONNECT
from sqlalchemy import DateTime, MetaData, event, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.core.config import Settings

if TYPE_CHECKING:
    from litestar.datastructures import State
    from litestar.types import Message, Scope
    from sqlalchemy.engine import ExceptionContext

log = logging.getLogger("backend.db")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
    }


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4, server_default=func.gen_random_uuid())


def created_at() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now())


def updated_at() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())


def _json_serializer(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def engine_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
        # No ping on every checkout (three round trips, a fifth of a public read's time): connections
        # idle for PING_AFTER_IDLE_S are pinged instead (``_ping_idle``), see create_engine.
        "pool_pre_ping": False,
        "json_serializer": _json_serializer,
        "json_deserializer": msgspec.json.decode,
        "connect_args": {
            "server_settings": {
                "application_name": "daqing-childcare",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
            },
            # Fail fast: connecting gives up after DB_POOL_TIMEOUT_S, and no statement waits on a
            # silent server longer than statement_timeout plus 5 s (the server's own limit cannot
            # fire if the server is unreachable).
            "timeout": settings.db_pool_timeout_s,
            "command_timeout": (settings.db_statement_timeout_ms / 1000 + 5)
            if settings.db_statement_timeout_ms
            else None,
        },
    }


def _broken_connection(exc: BaseException | None) -> bool:
    """asyncpg errors after which a connection cannot be used again, though it may not look closed."""
    while exc is not None:
        if isinstance(
            exc,
            (
                OSError,
                asyncpg_exc.ConnectionDoesNotExistError,
                asyncpg_exc.InternalClientError,  # "cannot switch to state …": a half-finished operation
                asyncpg_exc.CannotConnectNowError,
            ),
        ):
            return True
        exc = exc.__cause__
    return False


def _mark_disconnects(context: ExceptionContext) -> None:
    """Let the pool discard such a connection (and every connection older than it)."""
    if not context.is_disconnect and _broken_connection(context.original_exception):
        context.is_disconnect = True


# A connection back in the pool for longer than this is pinged before it is handed out again.
PING_AFTER_IDLE_S = 1.0


def _mark_checked_in(dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A connection that died while idle (database restarted, network cut) is replaced on checkout
    instead of failing the request that drew it: after an outage the first request succeeds.

    Only connections idle for ``PING_AFTER_IDLE_S`` are pinged: under load connections come back
    within milliseconds and a ping would triple the round trips of every read. A connection that
    broke while busy fails its request (503) and ``_mark_disconnects`` has the pool discard it and
    every connection older than it."""
    if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_S:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise DisconnectionError("idle connection failed its ping") from exc  # the pool retries with a new one


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    engine = create_async_engine(url, **engine_kwargs(settings))
    event.listen(engine.sync_engine, "handle_error", _mark_disconnects)
    event.listen(engine.sync_engine.pool, "connect", _mark_checked_in)  # new: no ping needed
    event.listen(engine.sync_engine.pool, "checkin", _mark_checked_in)
    event.listen(engine.sync_engine.pool, "checkout", _ping_idle)
    return engine


# Where a connection's session is kept in its ASGI scope (our own key: advanced-alchemy's is private).
_SESSION_SCOPE_KEY = "dq_db_session"
# The ASGI events after which a connection's session is done (a response started, or the client left).
_SESSION_TERMINUS_EVENTS = frozenset({HTTP_RESPONSE_START, HTTP_DISCONNECT, WEBSOCKET_DISCONNECT, WEBSOCKET_CLOSE})


class RequestSessionConfig(SQLAlchemyAsyncConfig):
    """advanced-alchemy's config, keeping the request's one session under our own scope key so that
    ``_close_session`` can find it through public API only."""

    def provide_session(self, state: State, scope: Scope) -> AsyncSession:  # type: ignore[override]
        session: AsyncSession | None = scope.get(_SESSION_SCOPE_KEY)  # type: ignore[assignment]
        if session is None:
            reset_routing_context()  # what the base class does for a new request's session
            session = state[self.session_maker_app_state_key]()
            scope[_SESSION_SCOPE_KEY] = session  # type: ignore[literal-required]
        return session


async def _close_session(message: Message, scope: Scope) -> None:
    """Close the request's session before its response starts (what advanced-alchemy's default handler
    does), but never let a dead connection turn a finished response into a bare 500: a session that
    cannot be closed cleanly is invalidated (its connection discarded; nothing uncommitted survives)."""
    session: AsyncSession | None = scope.get(_SESSION_SCOPE_KEY)  # type: ignore[assignment]
    if session is None or message["type"] not in _SESSION_TERMINUS_EVENTS:
        return
    try:
        await session.close()
    except Exception as exc:
        log.warning("closing a database session failed (%s); its connection is discarded", type(exc).__name__)
        with contextlib.suppress(Exception):
            await session.invalidate()
    finally:
        del scope[_SESSION_SCOPE_KEY]  # type: ignore[misc]


def alchemy_config(engine: AsyncEngine) -> SQLAlchemyAsyncConfig:
    config = RequestSessionConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False, autoflush=False),
        session_dependency_key="db",
        set_default_exception_handler=False,
        enable_file_object_listener=False,
        enable_touch_updated_timestamp_listener=False,
    )
    config.before_send_handler = _close_session
    return config


def alchemy_plugin(config: SQLAlchemyAsyncConfig) -> SQLAlchemyPlugin:
    return SQLAlchemyPlugin(config=config)


__all__ = [
    "NAMING_CONVENTION",
    "AsyncSession",
    "Base",
    "alchemy_config",
    "alchemy_plugin",
    "create_engine",
    "created_at",
    "updated_at",
    "uuid_pk",
]


async def autocommit_reads(db: AsyncSession) -> None:
    """Run this request's reads without a transaction (no BEGIN/ROLLBACK round trips).

    For public read endpoints. If the request already started a transaction (the auth middleware
    looked up a session), or the session is bound to a connection that has one (the test suite's
    rolled-back transactions), reads simply continue in it.
    """
    if isinstance(db.bind, AsyncEngine) and not db.in_transaction():
        await db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
