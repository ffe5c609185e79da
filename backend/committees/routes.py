"""Parent committees: who sits on it (for the institution's parents and staff), appointments, elections."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.committees import permissions as P
from backend.committees import service
from backend.committees.schemas import AppointIn, CandidateOut, CommitteeOut, ElectionIn
from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses

WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


class CommitteeController(Controller):
    path = "/api/institutions/{institution_id:uuid}/committee"
    tags = ["committees · 家长委员会"]

    @get(
        "/",
        opt=requires(P.READ),
        responses=error_responses(401, 403, 404),
        summary="The parent committee / 家长委员会成员",
    )
    async def members(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        include_past: Annotated[bool, QueryParameter(description="Also list ended terms")] = False,
    ) -> CommitteeOut:
        """Current and upcoming members; the institution's parents and staff may look."""
        return await service.committee(db, caller.principal, institution_id, include_past=include_past)

    @get(
        "/candidates",
        opt=requires(P.CANDIDATES),
        responses=error_responses(401, 403, 404),
        summary="Parents who may join / 可任命的家长",
    )
    async def candidates(self, db: Db, caller: CallerDep, institution_id: FromPath[uuid.UUID]) -> list[CandidateOut]:
        return await service.candidates(db, caller.principal, institution_id)

    @post(
        "/members",
        opt=requires(P.APPOINT),
        responses=WRITE_ERRORS,
        summary="Appoint a member / 任命家长委员会成员",
    )
    async def appoint(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[AppointIn],
    ) -> CommitteeOut:
        await service.appoint(db, caller.principal, institution_id, data)
        await db.commit()
        return await service.committee(db, caller.principal, institution_id)

    @delete(
        "/members/{member_id:uuid}",
        opt=requires(P.END),
        responses=error_responses(401, 403, 404),
        summary="End a membership / 终止成员任期",
    )
    async def end(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        member_id: FromPath[uuid.UUID],
    ) -> None:
        await service.end_membership(db, caller.principal, institution_id, member_id)
        await db.commit()

    @post(
        "/elections",
        opt=requires(P.ELECTION),
        responses=WRITE_ERRORS,
        summary="Record an election result / 录入选举结果",
    )
    async def election(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[ElectionIn],
    ) -> CommitteeOut:
        """The elected committee replaces every membership overlapping its term."""
        await service.record_election(db, caller.principal, institution_id, data)
        await db.commit()
        return await service.committee(db, caller.principal, institution_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [CommitteeController],
    tags=[Tag(name="committees · 家长委员会", description="Parent committees: members, terms, elections")],
)
