"""A parent's children (name and birth date only)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.families import permissions as P
from backend.families import service
from backend.families.schemas import ChildIn, ChildOut, ChildPatch


class ChildrenController(Controller):
    path = "/api/me/children"
    tags = ["families · 家庭"]

    @get("/", opt=requires(P.LIST_CHILDREN), responses=error_responses(401, 403), summary="My children / 我的孩子")
    async def list_children(self, db: Db, caller: CallerDep) -> list[ChildOut]:
        return await service.list_children(db, caller.principal)

    @post(
        "/",
        opt=requires(P.ADD_CHILD),
        responses=error_responses(401, 403, 409, 422),
        summary="Add a child / 添加孩子",
        description="Needs the guardian's consent (`consent`, 422 `guardian_consent_required` without it); "
        "409 `child_already_added` when this account already has a child of that name and birth date.",
    )
    async def add_child(self, db: Db, caller: CallerDep, data: JSONBody[ChildIn]) -> ChildOut:
        out = await service.add_child(db, caller.principal, data)
        await db.commit()
        return out

    @patch(
        "/{child_id:uuid}",
        opt=requires(P.UPDATE_CHILD),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Correct a child's record / 修改孩子信息",
    )
    async def update_child(
        self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID], data: JSONBody[ChildPatch]
    ) -> ChildOut:
        out = await service.update_child(db, caller.principal, child_id, data)
        await db.commit()
        return out

    @delete(
        "/{child_id:uuid}",
        opt=requires(P.REMOVE_CHILD),
        responses=error_responses(401, 403, 404, 409),
        summary="Remove a child / 删除孩子",
    )
    async def remove_child(self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID]) -> None:
        await service.remove_child(db, caller.principal, child_id)
        await db.commit()


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [ChildrenController],
    tags=[Tag(name="families · 家庭", description="A parent's children")],
)
