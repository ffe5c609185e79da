"""Liveness and readiness: the process answers and the database is reachable."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.openapi.spec import Tag
from sqlalchemy import text

from backend.core.authz import action, requires
from backend.core.deps import Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.core.schemas import Output

HEALTH = action("health.read", "check service health", roles=None)


class Health(Output):
    status: str
    database: str


@get(
    "/health",
    opt=requires(HEALTH),
    tags=["health · 运行状态"],
    responses=error_responses(503),
    summary="Health check / 健康检查",
    cache_control=None,
)
async def health(db: Db) -> Response[Health]:
    try:
        await asyncio.wait_for(db.execute(text("SELECT 1")), timeout=2)
    except Exception:
        return Response(Health(status="degraded", database="unavailable"), status_code=503)
    return Response(Health(status="ok", database="ok"))


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [health],
    tags=[Tag(name="health · 运行状态", description="Service health")],
)
