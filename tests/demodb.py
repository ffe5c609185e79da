"""Reading a demo database (the ``demo_url`` fixture in tests/conftest.py builds one per test module)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


async def rows(url: str, sql: str, **params: Any) -> list[Any]:
    """The rows ``sql`` returns on the database at ``url`` (its own short-lived connection)."""
    eng = create_async_engine(url, poolclass=NullPool)
    try:
        async with eng.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await eng.dispose()
