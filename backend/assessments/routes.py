"""Quality assessments (质量评估): officers record and publish, institutions answer, everyone reads results."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.spec import Tag
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from backend.assessments import permissions as P
from backend.assessments import service
from backend.assessments.schemas import (
    AssessmentEdit,
    AssessmentIn,
    AssessmentListItem,
    AssessmentOut,
    FollowUpIn,
    PublicAssessment,
    ResponseIn,
    StandardOut,
    StatusName,
)
from backend.core import idempotency
from backend.core.authz import Principal, requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses

READ_ERRORS = error_responses(401, 403, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)
TAGS = ["assessments · 质量评估"]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=idempotency.HEADER,
        pattern=idempotency.KEY_PATTERN,
        description="Retry-safe recording: the same key and body replay the first response for 24 hours",
    ),
]


class AssessmentController(Controller):
    path = "/api/assessments"
    tags = TAGS

    @get("/dimensions", opt=requires(P.DIMENSIONS), summary="The assessment standard / 评估维度与等级")
    async def dimensions(self) -> StandardOut:
        """The dimensions of WS/T 821-2023 with their maximum points (1,000 in all) and the grade cut-offs."""
        return service.standard()

    @get("/", opt=requires(P.LIST), responses=error_responses(400, 401, 403), summary="Assessments / 评估列表")
    async def listing(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: Annotated[uuid.UUID | None, QueryParameter(description="Only this institution")] = None,
        status: Annotated[StatusName | None, QueryParameter(description="draft or published")] = None,
        unit: Annotated[int | None, QueryParameter(ge=100000, le=999999, description="Unit code, e.g. 230602")] = None,
        overdue: Annotated[bool, QueryParameter(description="Only those with overdue rectification items")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> list[AssessmentListItem]:
        """Health officers: the assessments of their unit's institutions (city-wide officers and city
        admins: all), drafts included. Institution staff: their institution's published ones."""
        return await service.listing(
            db,
            caller.principal,
            institution_id=institution_id,
            status=status,
            unit=unit,
            overdue=overdue,
            limit=limit,
            offset=offset,
        )

    @post("/", opt=requires(P.CREATE), responses=WRITE_ERRORS, summary="Record an assessment / 录入质量评估")
    async def create(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        data: JSONBody[AssessmentIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AssessmentOut]:
        """Saved as a draft (not public) until published. `total` and `grade` are optional checks: if
        sent they must match what the scores give (422 `scores_do_not_add_up` / `grade_does_not_match`)."""

        async def create() -> AssessmentOut:
            assessment_id = await service.create(db, caller.principal, data)
            return await service.detail(db, caller.principal, assessment_id)

        return await idempotency.create_once(db, request, caller.account_id, idempotency_key, data, create)

    @get("/{assessment_id:uuid}", opt=requires(P.READ), responses=READ_ERRORS, summary="An assessment / 评估详情")
    async def detail(self, db: Db, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> AssessmentOut:
        return await service.detail(db, caller.principal, assessment_id)

    @put("/{assessment_id:uuid}", opt=requires(P.UPDATE), responses=WRITE_ERRORS, summary="Edit a draft / 修改评估草稿")
    async def update(
        self,
        db: Db,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        data: JSONBody[AssessmentEdit],
    ) -> AssessmentOut:
        """Replaces the draft, rectification items included. Published assessments are final (409)."""
        await service.update(db, caller.principal, assessment_id, data)
        await db.commit()
        return await service.detail(db, caller.principal, assessment_id)

    @delete(
        "/{assessment_id:uuid}",
        opt=requires(P.DELETE),
        responses=error_responses(401, 403, 404, 409),
        summary="Delete a draft / 删除评估草稿",
    )
    async def remove(self, db: Db, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> None:
        await service.remove(db, caller.principal, assessment_id)
        await db.commit()

    @post(
        "/{assessment_id:uuid}/publish",
        opt=requires(P.PUBLISH),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Publish / 发布评估结果",
    )
    async def publish(self, db: Db, caller: CallerDep, assessment_id: FromPath[uuid.UUID]) -> AssessmentOut:
        """The grade, total, date and summary become public on the institution's page; its staff are
        told (event `assessment.published`)."""
        await service.publish(db, caller.principal, assessment_id)
        await db.commit()
        return await service.detail(db, caller.principal, assessment_id)

    @post(
        "/{assessment_id:uuid}/items/{item_id:uuid}/follow-up",
        opt=requires(P.FOLLOW_UP),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Follow up a rectification item / 跟进整改事项",
    )
    async def follow_up(
        self,
        db: Db,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[FollowUpIn],
    ) -> AssessmentOut:
        """Mark an item rectified (or open again) with a note. An open item past its deadline shows as
        `overdue`."""
        await service.follow_up(db, caller.principal, assessment_id, item_id, data)
        await db.commit()
        return await service.detail(db, caller.principal, assessment_id)

    @post(
        "/{assessment_id:uuid}/items/{item_id:uuid}/response",
        opt=requires(P.RESPOND),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Answer a rectification item / 机构答复整改事项",
    )
    async def respond(
        self,
        db: Db,
        caller: CallerDep,
        assessment_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[ResponseIn],
    ) -> AssessmentOut:
        """The institution's staff describe what they did; the unit's health officers are told."""
        await service.respond(db, caller.principal, assessment_id, item_id, data)
        await db.commit()
        return await service.detail(db, caller.principal, assessment_id)


class InstitutionAssessmentController(Controller):
    path = "/api/institutions/{institution_id:uuid}/assessments"
    tags = TAGS

    @get(
        "/",
        opt=requires(P.PUBLIC_HISTORY),
        responses=error_responses(404),
        summary="Published assessments of an institution / 机构质量评估结果",
    )
    async def history(self, db: Db, institution_id: FromPath[uuid.UUID]) -> list[PublicAssessment]:
        """Every published assessment, newest first: date, grade, total, per-dimension scores, summary."""
        return await service.public_history(db, institution_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [AssessmentController, InstitutionAssessmentController],
    tags=[Tag(name=TAGS[0], description="Quality assessments (WS/T 821-2023) and rectification")],
)
