"""Complaints from the public: filing (anonymous allowed, photos inline), tracking by code, the
reporter's list, the institution's view of accepted complaints, and the public figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import FromPath, HeaderParameter, JSONBody, MultipartBody

from backend.complaints import permissions as P
from backend.complaints import service
from backend.complaints.desk_routes import DeskController
from backend.complaints.routing import CATEGORIES
from backend.complaints.schemas import (
    CategoryOut,
    ComplaintForm,
    ComplaintPublic,
    Figures,
    Filed,
    MyComplaint,
    StaffComplaint,
    TrackIn,
)
from backend.core.authz import Principal, principal_of, requires
from backend.core.config import Settings
from backend.core.deps import Db, client_address
from backend.core.errors import error_responses
from backend.core.openapi import multipart_form
from backend.core.storage import Storage
from backend.files.routes import require_multipart
from backend.files.service import COMPLAINT_FILING_MAX_BODY

TAGS = ["complaints · 投诉举报"]
# Six photos of 10 MiB and the form around them; anything larger is refused (413) while it arrives.
FILING_MAX_BODY = COMPLAINT_FILING_MAX_BODY

FILING_DESCRIPTION = """
`multipart/form-data`: the fields of `ComplaintForm` and up to six parts named `photos` (JPEG, PNG or
WebP, recognised by content, at most 10 MB each; all metadata such as GPS is removed). No account is
needed. The answer's `tracking_code` is shown once: anyone holding it can follow the complaint with
`POST /api/complaints/track`. Send `X-Device-Id` (a random id the app keeps) so that rate limits can
tell devices behind one address apart.

提交投诉举报（可匿名）。返回的查询码只显示一次，请妥善保存，凭查询码可查看办理进度。
""".strip()


@dataclass
class FilingForm:
    """The multipart form: text fields (checked as ``ComplaintForm``) and the photos."""

    category: str
    description: str
    target_type: str = "place"
    institution_id: str | None = None
    room_id: str | None = None
    place_name: str | None = None
    lat: str | None = None
    lng: str | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    photos: list[UploadFile] = field(default_factory=list)


def _checked(form: FilingForm) -> ComplaintForm:
    fields = {k: v for k, v in vars(form).items() if k != "photos" and v not in (None, "")}
    try:
        return msgspec.convert(fields, ComplaintForm, strict=False)
    except msgspec.ValidationError as exc:
        key = str(exc).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(exc) else None
        raise ValidationException(
            "Validation failed for the complaint form", extra=[{"message": str(exc), "key": key, "source": "body"}]
        ) from exc


class ComplaintController(Controller):
    path = "/api/complaints"
    tags = TAGS
    dependencies = {"client": Provide(client_address, sync_to_thread=False)}

    @get("/categories", opt=requires(P.CATEGORIES), summary="Complaint categories / 投诉类别")
    async def categories(self) -> list[CategoryOut]:
        return [
            CategoryOut(
                code=c.code, name_zh=c.name_zh, name_en=c.name_en, urgent=c.urgent, departments=list(c.departments)
            )  # type: ignore[arg-type]
            for c in CATEGORIES.values()
        ]

    @post(
        "/",
        opt={**requires(P.FILE), **multipart_form(ComplaintForm, "photos", service.MAX_PHOTOS)},
        before_request=require_multipart,
        request_max_body_size=FILING_MAX_BODY,
        status_code=201,
        responses=error_responses(400, 413, 415, 422, 429, 503),
        summary="File a complaint / 提交投诉举报",
        description=FILING_DESCRIPTION,
    )
    async def file(
        self,
        db: Db,
        state: State,
        storage: NamedDependency[Storage],
        request: Request[Any, Any, Any],
        client: NamedDependency[str],
        data: MultipartBody[FilingForm],
        device_id: Annotated[
            str | None, HeaderParameter(name="X-Device-Id", pattern=r"^[A-Za-z0-9_-]{1,64}$", required=False)
        ] = None,
    ) -> Filed:
        settings: Settings = state.settings
        return await service.file_complaint(
            db,
            settings,
            storage,
            principal_of(request),
            _checked(data),
            data.photos,
            client=client,
            device=device_id,
        )

    @post(
        "/track",
        opt=requires(P.TRACK),
        status_code=200,
        responses=error_responses(400, 404),
        summary="Follow a complaint by its code / 凭查询码查看进度",
    )
    async def track(self, db: Db, state: State, data: JSONBody[TrackIn]) -> ComplaintPublic:
        """The code goes in the body, not the URL, so it stays out of logs and browser history."""
        return await service.track(db, state.settings, data.tracking_code)

    @get("/mine", opt=requires(P.LIST_MINE), responses=error_responses(401), summary="My complaints / 我的投诉")
    async def mine(self, db: Db, request: Request[Principal, Any, Any]) -> list[MyComplaint]:
        return await service.mine(db, request.user, P.LIST_MINE)

    @get(
        "/mine/{complaint_id:uuid}",
        opt=requires(P.READ_MINE),
        responses=error_responses(401, 404),
        summary="A complaint I filed / 我的投诉详情",
    )
    async def my_complaint(
        self, db: Db, request: Request[Principal, Any, Any], complaint_id: FromPath[uuid.UUID]
    ) -> MyComplaint:
        return await service.my_complaint(db, request.user, complaint_id, P.READ_MINE)

    @get("/figures", opt=requires(P.FIGURES), summary="Public figures / 投诉统计")
    async def figures(self, db: Db) -> Figures:
        """Counts by category, unit and status, and the median days to resolve; no personal data."""
        return await service.figures(db)


class InstitutionComplaintController(Controller):
    path = "/api/institutions/{institution_id:uuid}/complaints"
    tags = TAGS

    @get(
        "/",
        opt=requires(P.INSTITUTION_LIST),
        responses=error_responses(401, 403, 404),
        summary="Accepted complaints about my institution / 本机构被投诉事项",
    )
    async def list_for_institution(
        self, db: Db, request: Request[Principal, Any, Any], institution_id: FromPath[uuid.UUID]
    ) -> list[StaffComplaint]:
        """Only complaints an officer has accepted; never who filed them or how to reach them."""
        return await service.institution_complaints(db, request.user, institution_id, P.INSTITUTION_LIST)

    @get(
        "/{complaint_id:uuid}",
        opt=requires(P.INSTITUTION_READ),
        responses=error_responses(401, 403, 404),
        summary="An accepted complaint about my institution / 被投诉事项详情",
    )
    async def read_for_institution(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        institution_id: FromPath[uuid.UUID],
        complaint_id: FromPath[uuid.UUID],
    ) -> StaffComplaint:
        return await service.institution_complaint(db, request.user, institution_id, complaint_id, P.INSTITUTION_READ)


def complaints_router() -> Router:
    return Router("/", route_handlers=[ComplaintController, InstitutionComplaintController, DeskController])
