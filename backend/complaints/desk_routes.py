"""The officers' desk for complaints: queue, detail, status changes, notes, duplicates, merging.

Officers see the complaints routed to their department (unit officers: of their unit, or with none
yet); city admins all. Anything else answers 404. See ``desk.py`` for the rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.complaints import desk
from backend.complaints import permissions as P
from backend.complaints.schemas import (
    CategoryCode,
    DeskComplaint,
    DeskItem,
    MergeIn,
    NoteIn,
    SimilarItem,
    TransitionIn,
)
from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.errors import error_responses
from backend.core.storage import Storage

READ_ERRORS = error_responses(401, 403, 404)
# Each value: one status or a comma-separated list (documented per item; checked by desk.parse_statuses).
_STATUS_ITEMS = Schema(type=OpenAPIType.STRING, pattern=desk.STATUS_LIST_PATTERN)
_STATUS_SCHEMA = {"one_of": [Schema(type=OpenAPIType.ARRAY, items=_STATUS_ITEMS), Schema(type=OpenAPIType.NULL)]}
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


class DeskController(Controller):
    path = "/api/complaints/desk"
    tags = ["complaints · 投诉举报"]

    @get(
        "/",
        opt=requires(P.DESK),
        responses=error_responses(400, 401, 403),
        summary="The complaint queue / 投诉处理队列",
    )
    async def queue(
        self,
        db: Db,
        caller: CallerDep,
        department: Annotated[
            str | None,
            QueryParameter(
                pattern=r"^[a-z][a-z0-9_]{1,31}$", description="One of your departments (e.g. health, gov_230602)"
            ),
        ] = None,
        status: Annotated[
            list[str] | None,
            QueryParameter(
                schema_extra=_STATUS_SCHEMA,
                description="Statuses, repeated or comma-separated (default: received, accepted, investigating)",
            ),
        ] = None,
        category: Annotated[CategoryCode | None, QueryParameter(description="Only this category")] = None,
        unit: Annotated[int | None, QueryParameter(ge=100000, le=999999, description="Unit code, e.g. 230602")] = None,
        urgent: Annotated[
            bool | None, QueryParameter(description="Only urgent (true) or only non-urgent (false)")
        ] = None,
        overdue: Annotated[bool, QueryParameter(description="Only complaints past a time limit")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> list[DeskItem]:
        """Complaints routed to you: urgent first, then those past a time limit (acknowledge or
        resolve, in working days), then the oldest. `ack_overdue`: still received after `ack_due_at`;
        `resolve_overdue`: still open after `resolve_due_at`."""
        return await desk.queue(
            db,
            caller.principal,
            P.DESK,
            department=department,
            statuses=desk.parse_statuses(status),
            category=category,
            unit=unit,
            urgent=urgent,
            overdue=overdue,
            limit=limit,
            offset=offset,
        )

    @get(
        "/{complaint_id:uuid}",
        opt=requires(P.DESK_READ),
        responses=READ_ERRORS,
        summary="A complaint in full / 投诉详情（办理）",
    )
    async def detail(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        complaint_id: FromPath[uuid.UUID],
    ) -> DeskComplaint:
        """Description, location, contact details, the whole history with internal notes and the
        officers who wrote them, and the photos as URLs valid for five minutes."""
        return await desk.detail(db, storage, caller.principal, complaint_id)

    @post(
        "/{complaint_id:uuid}/transitions",
        opt=requires(P.TRANSITION),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Change a complaint's status / 变更办理状态",
    )
    async def transition(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        complaint_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn],
    ) -> DeskComplaint:
        """received → accepted / rejected / referred; accepted → investigating / resolved / rejected /
        referred; investigating → resolved / rejected / referred. Any other move answers 409
        `transition_not_allowed`; `duplicate` is set by merging. The public note (required) is sent
        to the reporter; the institution's staff hear of it once the complaint has been accepted."""
        await desk.transition(db, caller.principal, complaint_id, data)
        await db.commit()
        return await desk.detail(db, storage, caller.principal, complaint_id)

    @post(
        "/{complaint_id:uuid}/notes",
        opt=requires(P.NOTE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Add a note / 添加办理说明",
    )
    async def note(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        complaint_id: FromPath[uuid.UUID],
        data: JSONBody[NoteIn],
    ) -> DeskComplaint:
        """A public note (the reporter is told) and/or an internal one, without changing the status."""
        await desk.add_note(db, caller.principal, complaint_id, data)
        await db.commit()
        return await desk.detail(db, storage, caller.principal, complaint_id)

    @get(
        "/{complaint_id:uuid}/similar",
        opt=requires(P.SIMILAR),
        responses=READ_ERRORS,
        summary="Possible duplicates / 疑似重复投诉",
    )
    async def similar(self, db: Db, caller: CallerDep, complaint_id: FromPath[uuid.UUID]) -> list[SimilarItem]:
        """Complaints you can see of the same category, filed in the last 30 days, within 250 m or
        about the same institution; nearest first."""
        return await desk.similar(db, caller.principal, complaint_id)

    @post(
        "/{complaint_id:uuid}/merge",
        opt=requires(P.MERGE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Merge into another complaint / 合并重复投诉",
    )
    async def merge(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        complaint_id: FromPath[uuid.UUID],
        data: JSONBody[MergeIn],
    ) -> DeskComplaint:
        """This complaint becomes a duplicate of `into` (one you can see, not itself a duplicate) and
        is closed; its reporter is told with the public note. Complaints already merged into this one
        move to `into`."""
        await desk.merge(db, caller.principal, complaint_id, data)
        await db.commit()
        return await desk.detail(db, storage, caller.principal, complaint_id)
