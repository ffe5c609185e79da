"""Database plumbing shared by every domain: the declarative base, the engine and the Litestar plugin.

Transactions: a request gets one ``AsyncSession`` (the advanced-alchemy plugin keeps it in the ASGI
scope, so the auth middleware and the handler share it). Services do their work and flush; the
route handler that called them commits (one transaction per request, like eVaka's controllers).
Anything not committed is rolled back when the response is sent, so a failing request writes
nothing. The one exception is sign-in, which commits rate-limit counts before refusing a request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.core.config import Settings

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
        "pool_pre_ping": False,
        "json_serializer": _json_serializer,
        "json_deserializer": msgspec.json.decode,
        "connect_args": {
            "server_settings": {
                "application_name": "daqing-childcare",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
            },
            "timeout": settings.db_pool_timeout_s,
        },
    }


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    return create_async_engine(url, **engine_kwargs(settings))


def alchemy_config(engine: AsyncEngine) -> SQLAlchemyAsyncConfig:
    return SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False, autoflush=False),
        session_dependency_key="db",
        set_default_exception_handler=False,
        enable_file_object_listener=False,
        enable_touch_updated_timestamp_listener=False,
    )


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
