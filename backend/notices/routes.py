"""Notices, read receipts and consultations for an institution's parents, classes and committee."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Tag
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from backend.core import idempotency
from backend.core.authz import Principal, requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.core.storage import Storage
from backend.files.routes import attachment_response
from backend.notices import permissions as P
from backend.notices import service
from backend.notices.schemas import (
    AnswerIn,
    AnswerOut,
    NoticeDetail,
    NoticeIn,
    NoticeOut,
    NoticePatch,
    ReceiptsOut,
    ResultsOut,
    RevisionOut,
    UnreadOut,
)

READ_ERRORS = error_responses(401, 403, 404)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=idempotency.HEADER,
        pattern=idempotency.KEY_PATTERN,
        description="Retry-safe posting: the same key and body replay the first response for 24 hours",
    ),
]


class InstitutionNoticeController(Controller):
    path = "/api/institutions/{institution_id:uuid}/notices"
    tags = ["notices · 通知公告"]

    @post(
        "/",
        opt=requires(P.CREATE),
        responses=WRITE_ERRORS,
        summary="Post a notice / 发布通知",
    )
    async def create(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[NoticeIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[NoticeDetail]:
        """Staff post as the institution (to all parents, one class or the committee); sitting
        committee members post as the committee (to all parents or the committee). Bodies are plain
        text or limited Markdown, rendered and sanitized on the server. A future `publish_at`
        schedules the notice; an optional `consultation` asks the readers a question."""

        async def create() -> NoticeDetail:
            notice_id = await service.create(db, caller.principal, institution_id, data)
            return await service.detail(db, caller.principal, notice_id)

        return await idempotency.create_once(db, request, caller.account_id, idempotency_key, data, create)

    @get("/", opt=requires(P.LIST), responses=READ_ERRORS, summary="An institution's notices / 机构通知列表")
    async def list_notices(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        include_deleted: Annotated[bool, QueryParameter(description="Staff: also deleted notices")] = False,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[NoticeOut]:
        """Parents see what is published and addressed to them; staff also see scheduled and expired
        notices (and deleted ones on request)."""
        return await service.institution_notices(
            db, caller.principal, institution_id, include_deleted=include_deleted, limit=limit, offset=offset
        )


class NoticeController(Controller):
    path = "/api/notices"
    tags = ["notices · 通知公告"]

    @get("/", opt=requires(P.FEED), responses=error_responses(401, 403), summary="My notices / 我的通知")
    async def feed(
        self,
        db: Db,
        caller: CallerDep,
        unread: Annotated[bool, QueryParameter(description="Only notices not yet read")] = False,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[NoticeOut]:
        """Every notice addressed to the caller, from all their children's institutions: pinned first,
        then newest."""
        return await service.feed(db, caller.principal, unread_only=unread, limit=limit, offset=offset)

    @get("/unread", opt=requires(P.UNREAD), responses=error_responses(401, 403), summary="Unread counts / 未读数")
    async def unread(self, db: Db, caller: CallerDep) -> UnreadOut:
        return await service.unread(db, caller.principal)

    @get("/{notice_id:uuid}", opt=requires(P.READ), responses=READ_ERRORS, summary="A notice / 通知详情")
    async def detail(self, db: Db, caller: CallerDep, notice_id: FromPath[uuid.UUID]) -> NoticeDetail:
        """Reading does not mark it read: the app posts `/read` once the notice has been shown."""
        return await service.detail(db, caller.principal, notice_id)

    @patch("/{notice_id:uuid}", opt=requires(P.EDIT), responses=WRITE_ERRORS, summary="Edit a notice / 修改通知")
    async def edit(
        self,
        db: Db,
        caller: CallerDep,
        notice_id: FromPath[uuid.UUID],
        data: JSONBody[NoticePatch],
    ) -> NoticeDetail:
        """Makes a new version (the history keeps every earlier one) and tells the audience."""
        await service.edit(db, caller.principal, notice_id, data)
        await db.commit()
        return await service.detail(db, caller.principal, notice_id)

    @delete("/{notice_id:uuid}", opt=requires(P.DELETE), responses=READ_ERRORS, summary="Delete a notice / 删除通知")
    async def remove(self, db: Db, caller: CallerDep, notice_id: FromPath[uuid.UUID]) -> None:
        """A soft delete: parents no longer see it; staff still can, with who deleted it and when."""
        await service.remove(db, caller.principal, notice_id)
        await db.commit()

    @get(
        "/{notice_id:uuid}/revisions",
        opt=requires(P.REVISIONS),
        responses=READ_ERRORS,
        summary="Edit history / 修改记录",
    )
    async def revisions(self, db: Db, caller: CallerDep, notice_id: FromPath[uuid.UUID]) -> list[RevisionOut]:
        return await service.revisions(db, caller.principal, notice_id)

    @get(
        "/{notice_id:uuid}/attachments/{upload_id:uuid}",
        opt=requires(P.ATTACHMENT),
        responses=READ_ERRORS,
        summary="A notice's image / 通知图片",
        media_type="application/octet-stream",
    )
    async def attachment(
        self,
        db: Db,
        storage: NamedDependency[Storage],
        caller: CallerDep,
        notice_id: FromPath[uuid.UUID],
        upload_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        return attachment_response(*await service.attachment(db, storage, caller.principal, notice_id, upload_id))

    @post(
        "/{notice_id:uuid}/read",
        opt=requires(P.MARK_READ),
        responses=READ_ERRORS,
        status_code=200,
        summary="Mark as read / 标记已读",
    )
    async def mark_read(self, db: Db, caller: CallerDep, notice_id: FromPath[uuid.UUID]) -> dict[str, dt.datetime]:
        """Idempotent: the first read time is kept."""
        read_at = await service.mark_read(db, caller.principal, notice_id)
        await db.commit()
        return {"read_at": read_at}

    @get(
        "/{notice_id:uuid}/receipts",
        opt=requires(P.RECEIPTS),
        responses=READ_ERRORS,
        summary="Read counts and who has not read / 阅读统计与未读名单",
    )
    async def receipts(self, db: Db, caller: CallerDep, notice_id: FromPath[uuid.UUID]) -> ReceiptsOut:
        return await service.receipts(db, caller.principal, notice_id)

    @put(
        "/{notice_id:uuid}/answer",
        opt=requires(P.ANSWER),
        responses=WRITE_ERRORS,
        summary="Answer or change an answer / 提交或修改意见",
    )
    async def answer(
        self,
        db: Db,
        caller: CallerDep,
        notice_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerIn],
    ) -> AnswerOut:
        """One answer per guardian account, changeable until the deadline. Anonymous consultations
        return a `receipt` once: send it back to change the answer (the server keeps only its hash)."""
        out = await service.answer(db, caller.principal, notice_id, data)
        await db.commit()
        return out

    @get(
        "/{notice_id:uuid}/results",
        opt=requires(P.RESULTS),
        responses=READ_ERRORS,
        summary="Consultation results / 征求意见结果",
    )
    async def results(self, db: Db, caller: CallerDep, notice_id: FromPath[uuid.UUID]) -> ResultsOut:
        return await service.results(db, caller.principal, notice_id)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [InstitutionNoticeController, NoticeController],
    tags=[Tag(name="notices · 通知公告", description="Notices, read receipts and consultations (征求意见)")],
)
