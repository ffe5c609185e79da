"""Staff rosters (工作人员名册): an institution's admins list, add and remove its staff."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.staff import permissions as P
from backend.staff import service
from backend.staff.schemas import StaffMemberIn, StaffMemberOut


class StaffRosterController(Controller):
    path = "/api/institutions/{institution_id:uuid}/staff"
    tags = ["staff · 工作人员名册"]

    @get("/", opt=requires(P.LIST), responses=error_responses(401, 403, 404), summary="Staff roster / 工作人员名册")
    async def list_members(
        self, db: Db, caller: CallerDep, institution_id: FromPath[uuid.UUID]
    ) -> list[StaffMemberOut]:
        """ID numbers are shown masked (last four characters only)."""
        return await service.list_members(db, caller.principal, institution_id)

    @post(
        "/",
        opt=requires(P.ADD),
        status_code=201,
        responses=error_responses(400, 401, 403, 404, 409, 422),
        summary="Add a staff member / 添加工作人员",
    )
    async def add_member(
        self,
        db: Db,
        caller: CallerDep,
        state: State,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[StaffMemberIn],
    ) -> StaffMemberOut:
        """The ID number is validated (422 `invalid_id_number`) and kept only as a keyed hash and its
        last four characters. 409 `person_blacklisted` if the person is on the blacklist (no details
        are given), 409 `already_on_roster` if they are on this roster already. A `phone` that belongs
        to a platform account gives that account staff access to the institution."""
        out = await service.add_member(db, state.settings, caller.principal, institution_id, data)
        await db.commit()
        return out

    @delete(
        "/{member_id:uuid}",
        opt=requires(P.REMOVE),
        responses=error_responses(401, 403, 404),
        summary="Remove a staff member / 移除工作人员",
    )
    async def remove_member(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        member_id: FromPath[uuid.UUID],
    ) -> None:
        """Also removes the staff access the roster entry gave a linked account."""
        await service.remove_member(db, caller.principal, institution_id, member_id)
        await db.commit()


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [StaffRosterController],
    tags=[
        Tag(name="staff · 工作人员名册", description="Institutions' staff rosters (ID numbers kept as keyed hashes)")
    ],
)
