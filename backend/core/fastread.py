"""Public reads without the ORM's per-statement machinery (issue 26: profiled, it was a third of a
nearby search's server CPU, more than the routing, middleware and DI together).

``fetch(db, stmt, params)`` runs a Core ``SELECT`` that a query module builds once and reuses (the
nearby search's statements are cached per filter combination): it is compiled for asyncpg once, and
each call binds the values in the compiled order and runs the SQL on the request's own connection
(``db.connection()``: the same pool checkout, the same transaction if the request already has one, so
tests' rolled-back transactions and the auth middleware's lookups see the same data). Skipped per
call: the ORM's execute, the compiled-statement cache lookup, the result machinery, and the BEGIN/
ROLLBACK pair (a read outside a transaction is sent as is, like ``autocommit_reads``).

Errors look exactly like the ORM path's: the driver's exception goes through SQLAlchemy's asyncpg
adapter translation and is raised as a ``DBAPIError``, so the error handlers (503 when the database is
busy or away, 400 for a data exception) answer the same, and a broken connection is invalidated (the
engine's ``handle_error`` listeners run as for any statement).

Only for a Core ``SELECT`` built once and reused. Parameters get their types' bind processors, as
SQLAlchemy would apply them; result columns come as asyncpg decodes them, with no result processing
(so a column whose type decodes in Python, such as a child's encrypted name, comes as stored: the
caller decodes it with the column's own type, as ``bookings.service`` does). Expanding ``IN``
parameters are refused at compile time (use an array parameter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncpg import Record
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.util.concurrency import greenlet_spawn


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]  # literal binds the statement carries (a time zone, a constant)
    processors: dict[str, Any]


# By ``id()``, checked against the statement kept with it (as core.inputs' plans).
_COMPILED: dict[int, tuple[Select[Any], Compiled]] = {}


def compiled(stmt: Select[Any], dialect: Any) -> Compiled:
    known = _COMPILED.get(id(stmt))
    if known is not None and known[0] is stmt:
        return known[1]
    c = stmt.compile(dialect=dialect)
    sql = str(c)
    if "POSTCOMPILE" in sql:
        raise ValueError("fastread: expanding IN parameters are not supported; use an array parameter")
    result = Compiled(sql, tuple(c.positiontup or ()), dict(c.params), dict(c._bind_processors))
    if len(_COMPILED) > 1024:  # statements are cached by their builders; this only guards against misuse
        _COMPILED.clear()
    _COMPILED[id(stmt)] = (stmt, result)
    return result


async def fetch(db: AsyncSession, stmt: Select[Any], params: dict[str, Any]) -> list[Record]:
    """The rows of ``stmt`` with ``params`` (asyncpg records: ``row["name"]``)."""
    conn = await db.connection()
    c = compiled(stmt, conn.dialect)
    values = []
    for name in c.names:
        value = params[name] if name in params else c.defaults[name]
        processor = c.processors.get(name)
        values.append(value if processor is None or value is None else processor(value))
    raw = await conn.get_raw_connection()
    try:
        return await raw.driver_connection.fetch(c.sql, *values)  # type: ignore[union-attr]
    except Exception as exc:
        # SQLAlchemy's own handling, as for any statement: the adapter translates the driver's error,
        # the engine's handle_error listeners run (core.db marks broken connections), a disconnect
        # invalidates the connection, and a DBAPIError is raised.
        await greenlet_spawn(_raise_translated, conn.sync_connection, raw.dbapi_connection, exc, c.sql, values)
        raise  # pragma: no cover - _raise_translated always raises


def _raise_translated(sync_connection: Any, adapter: Any, exc: Exception, sql: str, values: list[Any]) -> None:
    try:
        adapter._handle_exception(exc)
    except Exception as translated:
        sync_connection._handle_dbapi_exception(translated, sql, tuple(values), None, None)
        raise


__all__ = ["compiled", "fetch"]
