"""The bare baseline of ``bench/nearby.py``: an ASGI app with no framework and no ORM session.

It answers ``GET /api/institutions/nearby?lat=&lng=&radius_m=&limit=`` exactly as the endpoint does
its database work: the endpoint's own compiled statement (``queries.nearby_statement``) executed with
asyncpg from a pool of the same size, and the same page assembly (``queries._page_json``). It skips
everything else the project does per request (routing, auth, guards, audit, headers, validation), so
the ratio of the project's endpoint to this one is the cost of that machinery. Like the project
(``backend/core/compression.py``), it gzips answers of at least 1 KB at the same level when the client
accepts gzip, so both send the same bytes (aiohttp, the benchmark's client, asks for gzip).

Served by uvicorn with uvloop and httptools, one worker, like ``make run``::

    BARE_DATABASE_URL=postgresql://… BARE_POOL_SIZE=32 uvicorn nearby:app --app-dir bench/bare
Not a benchmark script of its own: ``bench/nearby.py`` starts it.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.core import pgserver  # noqa: E402
from backend.core.compression import GZIP_LEVEL, MINIMUM_SIZE  # noqa: E402
from backend.institutions import queries  # noqa: E402

_state: dict[str, Any] = {}


def compiled() -> tuple[str, list[str], dict[str, Any]]:
    """The endpoint's statement as asyncpg receives it (as ``nearby.compiled_sql``)."""
    stmt, params = queries.nearby_statement(queries.NearbyQuery(lat=0.0, lng=0.0, radius_m=5000, limit=20))
    c = stmt.compile(dialect=asyncpg_dialect())
    return str(c), list(c.positiontup or []), {**c.params, **params}


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("BARE_POOL_SIZE", "32"))
            dsn = pgserver.asyncpg_dsn(os.environ["BARE_DATABASE_URL"])
            _state["pool"] = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
            _state["sql"], _state["names"], _state["defaults"] = compiled()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def _accepts_gzip(scope: dict[str, Any]) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"])


async def _respond(send: Any, status: int, body: bytes, *, gzip: bool = False) -> None:
    headers = [(b"content-type", b"application/json")]
    if gzip and len(body) >= MINIMUM_SIZE:
        body = zlib.compress(body, GZIP_LEVEL, wbits=31)  # 31: the gzip container
        headers += [(b"content-encoding", b"gzip"), (b"vary", b"accept-encoding")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/health":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    if scope["path"] != "/api/institutions/nearby":
        await _respond(send, 404, b'{"status_code":404}')
        return
    args = dict(parse_qsl(scope["query_string"].decode()))
    limit = int(args.get("limit", "20"))
    values = {
        **_state["defaults"],
        "lat": float(args["lat"]),
        "lng": float(args["lng"]),
        "radius": float(args.get("radius_m", "5000")),
        "limit": limit + 1,
    }
    async with _state["pool"].acquire() as conn:
        rows = await conn.fetch(_state["sql"], *[values[n] for n in _state["names"]])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = queries.encode_cursor([rows[-1]["k0"], str(rows[-1]["k1"])])
    await _respond(send, 200, queries._page_json([r["item"] for r in rows], next_cursor), gzip=_accepts_gzip(scope))
