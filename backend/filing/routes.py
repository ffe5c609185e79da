"""Filing (备案) over HTTP: the institution's dossier (its admins) and the health officers' review."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.core.storage import Storage
from backend.filing import permissions as P
from backend.filing import service
from backend.filing.schemas import (
    FilingDecisionIn,
    FilingIn,
    FilingOut,
    FilingQueueItem,
    FilingReturnIn,
    FilingStatusName,
)

TAGS = ["filing · 备案"]
READ_ERRORS = error_responses(401, 403, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


class InstitutionFilingController(Controller):
    path = "/api/institutions/{institution_id:uuid}/filing"
    tags = TAGS

    @get("/", opt=requires(P.READ), responses=READ_ERRORS, summary="Our filing / 本机构备案")
    async def read(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        institution_id: FromPath[uuid.UUID],
    ) -> FilingOut:
        """Status, documents per kind (URLs valid for five minutes), what is still missing, the due
        date of the review, return reasons and the history. Its staff, admins and the city admin."""
        return await service.institution_filing(db, storage, caller.principal, institution_id)

    @put("/", opt=requires(P.SAVE), responses=WRITE_ERRORS, summary="Save the filing draft / 保存备案材料")
    async def save(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[FilingIn],
    ) -> FilingOut:
        """Whether meals are served and, per document kind, the uploads (purpose `filing_document`,
        yours or already in this filing) in order — the whole list each time. Only while the filing
        is unfiled or returned (409 `filing_not_editable` otherwise); an unusable upload answers 422
        `upload_unusable`. The institution's admins only."""
        await service.save(db, caller.principal, institution_id, data)
        await db.commit()
        return await service.institution_filing(db, storage, caller.principal, institution_id)

    @post(
        "/submit",
        opt=requires(P.SUBMIT),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Submit the filing / 提交备案",
    )
    async def submit(
        self,
        db: Db,
        state: State,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        institution_id: FromPath[uuid.UUID],
    ) -> FilingOut:
        """Submit for review by the health commission of the institution's unit, which answers within
        `FILING_REVIEW_WORKING_DAYS` working days. 422 `filing_documents_missing` (`extra.missing`)
        when a required kind has no document: the business licence or the legal-person certificate,
        proof of site, staff qualifications, health certificates, the health evaluation report, the
        fire-safety certificate, and the food licence when meals are served."""
        await service.submit(db, state.settings, caller.principal, institution_id)
        await db.commit()
        return await service.institution_filing(db, storage, caller.principal, institution_id)


class FilingReviewController(Controller):
    path = "/api/filings"
    tags = TAGS

    @get(
        "/", opt=requires(P.QUEUE), responses=error_responses(400, 401, 403), summary="Filings to review / 备案审核队列"
    )
    async def queue(
        self,
        db: Db,
        caller: CallerDep,
        status: Annotated[
            list[FilingStatusName] | None, QueryParameter(description="Statuses (default: submitted)")
        ] = None,
        overdue: Annotated[
            bool | None, QueryParameter(description="Only past the review time limit (true) or within it (false)")
        ] = None,
        unit: Annotated[int | None, QueryParameter(ge=100000, le=999999, description="Unit code, e.g. 230621")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> list[FilingQueueItem]:
        """Filings of the institutions you review — county/district health officers their unit's,
        city-wide health officers and city admins all — earliest due first. `overdue`: still
        submitted after `due_at` (submission + `FILING_REVIEW_WORKING_DAYS` working days)."""
        return await service.queue(
            db,
            caller.principal,
            statuses=list(dict.fromkeys(status or ["submitted"])),
            overdue=overdue,
            unit=unit,
            limit=limit,
            offset=offset,
        )

    @get("/{filing_id:uuid}", opt=requires(P.REVIEW_READ), responses=READ_ERRORS, summary="A filing / 备案详情（审核）")
    async def detail(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        filing_id: FromPath[uuid.UUID],
    ) -> FilingOut:
        """The filing with its documents as URLs valid for five minutes and its history."""
        return await service.review_detail(db, storage, caller.principal, filing_id)

    @post(
        "/{filing_id:uuid}/approve",
        opt=requires(P.DECIDE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Approve a filing / 备案审核通过",
    )
    async def approve(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        filing_id: FromPath[uuid.UUID],
        data: JSONBody[FilingDecisionIn],
    ) -> FilingOut:
        """The institution becomes filed (`filed_at` set) and may take families. 409
        `filing_not_submitted` if it is not waiting for a decision (e.g. another officer decided
        first), `submission_changed` if `expected_submission` is no longer the current one."""
        await service.decide(
            db, caller.principal, filing_id, approve=True, reasons=None, expected_submission=data.expected_submission
        )
        await db.commit()
        return await service.review_detail(db, storage, caller.principal, filing_id)

    @post(
        "/{filing_id:uuid}/return",
        opt=requires(P.DECIDE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Return a filing / 退回备案",
    )
    async def return_(
        self,
        db: Db,
        caller: CallerDep,
        storage: NamedDependency[Storage],
        filing_id: FromPath[uuid.UUID],
        data: JSONBody[FilingReturnIn],
    ) -> FilingOut:
        """Return the filing for correction with reasons (required, shown to the institution). Same
        409s as approving."""
        await service.decide(
            db,
            caller.principal,
            filing_id,
            approve=False,
            reasons=data.reasons,
            expected_submission=data.expected_submission,
        )
        await db.commit()
        return await service.review_detail(db, storage, caller.principal, filing_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [InstitutionFilingController, FilingReviewController],
    tags=[Tag(name=TAGS[0], description="Institutions' filing with the health commission and its review")],
)
