"""The blacklist (黑名单): the public list of blacklisted institutions; officers add, revoke and check.

ID numbers travel only in request bodies, never in URLs."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.blacklist import permissions as P
from backend.blacklist import service
from backend.blacklist.schemas import (
    CheckIn,
    CheckOut,
    EntryCreated,
    EntryOut,
    InstitutionEntryIn,
    PersonEntryIn,
    PublicEntry,
    RevokeIn,
)
from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


class BlacklistController(Controller):
    path = "/api/blacklist"
    tags = ["blacklist · 黑名单"]

    @get(
        "/institutions",
        opt=requires(P.PUBLIC_LIST),
        summary="Blacklisted institutions (public) / 黑名单机构公示",
    )
    async def public_list(self, db: Db) -> list[PublicEntry]:
        """Institutions with a blacklist entry in force: name, unit, reason, deciding authority and
        dates. They take no bookings, applications or registrations. People are never listed here."""
        return await service.public_list(db)

    @post(
        "/institutions",
        opt=requires(P.ADD_INSTITUTION),
        status_code=201,
        responses=WRITE_ERRORS,
        summary="Blacklist an institution / 将机构列入黑名单",
    )
    async def add_institution(self, db: Db, caller: CallerDep, data: JSONBody[InstitutionEntryIn]) -> EntryCreated:
        """Health officers (city-wide, or of the institution's unit), police officers and the city
        admin. 409 `already_blacklisted` if an active (unrevoked) entry exists; 422 `reason_blank`,
        `decided_in_future`, `effective_until_before_from`, `unknown_department`; 404 for an unknown
        institution or one outside your unit."""
        created = await service.add_institution(db, caller.principal, data)
        await db.commit()
        return created

    @post(
        "/persons",
        opt=requires(P.ADD_PERSON),
        status_code=201,
        responses=WRITE_ERRORS,
        summary="Blacklist a person / 将人员列入黑名单",
    )
    async def add_person(self, db: Db, caller: CallerDep, state: State, data: JSONBody[PersonEntryIn]) -> EntryCreated:
        """Any health or police officer and the city admin. The ID number is validated (422
        `invalid_id_number`) and only its keyed hash and last four characters are kept. `employers`
        lists the institutions whose staff roster holds the person; their admins and the health
        department are notified (ids only)."""
        created = await service.add_person(db, state.settings, caller.principal, data)
        await db.commit()
        return created

    @get(
        "/entries",
        opt=requires(P.LIST),
        responses=error_responses(400, 401, 403),
        summary="Blacklist entries (officers) / 黑名单记录（管理）",
    )
    async def list_entries(
        self,
        db: Db,
        caller: CallerDep,
        kind: Annotated[Literal["institution", "person"] | None, QueryParameter(description="Only this kind")] = None,
        status: Annotated[
            Literal["active", "revoked", "all"], QueryParameter(description="active = not revoked")
        ] = "active",
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Page size")] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> list[EntryOut]:
        """Newest first. Unit officers see person entries and the entries of their unit's institutions."""
        return await service.list_entries(db, caller.principal, kind=kind, status=status, limit=limit, offset=offset)

    @post(
        "/entries/{entry_id:uuid}/revoke",
        opt=requires(P.REVOKE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Revoke a blacklist entry / 撤销黑名单记录",
    )
    async def revoke(
        self, db: Db, caller: CallerDep, entry_id: FromPath[uuid.UUID], data: JSONBody[RevokeIn]
    ) -> EntryOut:
        """Entries are never deleted: revoking records the reason, who and when. 409 `already_revoked`."""
        out = await service.revoke(db, caller.principal, entry_id, data)
        await db.commit()
        return out

    @post(
        "/persons/check",
        opt=requires(P.CHECK),
        status_code=200,
        responses=error_responses(400, 401, 403, 422),
        summary="Check an ID number / 查询身份证号是否在黑名单",
    )
    async def check(self, db: Db, caller: CallerDep, state: State, data: JSONBody[CheckIn]) -> CheckOut:
        """The number goes in the body (never the URL). `blacklisted`: an entry in force."""
        return await service.check(db, state.settings, caller.principal, data)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [BlacklistController],
    tags=[Tag(name="blacklist · 黑名单", description="Blacklisted institutions (public) and people (officers)")],
)
