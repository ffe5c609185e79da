"""收藏: the caller's favourite institutions. PUT and DELETE are idempotent (tapping twice is harmless)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, put
from litestar.params import FromPath

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.favourites import permissions as P
from backend.favourites import service
from backend.favourites.schemas import FavouriteList


class FavouriteController(Controller):
    path = "/api/me/favourites"
    tags = ["favourites · 收藏"]

    @get("/", opt=requires(P.LIST), responses=error_responses(401, 403), summary="My favourites / 我的收藏")
    async def list_favourites(self, db: Db, caller: CallerDep) -> FavouriteList:
        return await service.list_favourites(db, caller.account_id)

    @put(
        "/{institution_id:uuid}",
        status_code=204,
        opt=requires(P.ADD),
        responses=error_responses(401, 403, 404),
        summary="Add to favourites / 收藏",
    )
    async def add(self, db: Db, caller: CallerDep, institution_id: FromPath[uuid.UUID]) -> None:
        await service.add_favourite(db, caller.account_id, institution_id)
        await db.commit()

    @delete(
        "/{institution_id:uuid}",
        status_code=204,
        opt=requires(P.REMOVE),
        responses=error_responses(401, 403, 404),
        summary="Remove from favourites / 取消收藏",
    )
    async def remove(self, db: Db, caller: CallerDep, institution_id: FromPath[uuid.UUID]) -> None:
        await service.remove_favourite(db, caller.account_id, institution_id)
        await db.commit()


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [FavouriteController],
)
