"""Complaints from the public: filing (anonymous allowed, photos inline), tracking by code, the
reporter's list, the institution's view of accepted complaints, and the public figures."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Tag
from litestar.params import FromPath, HeaderParameter, JSONBody, MultipartBody
from litestar.utils.scope.state import ScopeState

from backend.complaints import permissions as P
from backend.complaints import service
from backend.complaints.desk_routes import DeskController
from backend.complaints.open311 import TAGS as OPEN311_TAGS
from backend.complaints.open311 import open311_router
from backend.complaints.routing import CATEGORIES
from backend.complaints.schemas import (
    CategoryOut,
    ComplaintForm,
    ComplaintPublic,
    Figures,
    Filed,
    MyComplaint,
    PhotosAdded,
    StaffComplaint,
    TrackIn,
)
from backend.core import idempotency
from backend.core.authz import principal_of, requires
from backend.core.config import Settings
from backend.core.deps import CallerDep, Db, client_address
from backend.core.domains import Domain
from backend.core.errors import AppError, error_responses
from backend.core.inputs import check_form_encoded, checked_json
from backend.core.openapi import multipart_form
from backend.core.storage import Storage
from backend.files.routes import require_multipart
from backend.files.service import COMPLAINT_FILING_MAX_BODY

TAGS = ["complaints · 投诉举报"]
# Six photos of 10 MiB and the form around them; anything larger is refused (413) while it arrives.
FILING_MAX_BODY = COMPLAINT_FILING_MAX_BODY

FILING_DESCRIPTION = """
`multipart/form-data`: the fields of `ComplaintForm` and up to six parts named `photos` (JPEG, PNG or
WebP, recognised by content, at most 10 MB each; all metadata such as GPS is removed). A complaint
without photos may also be sent as `application/json` (an object of the same fields) or
`application/x-www-form-urlencoded` (`curl -d category=other -d description=…`). No account is
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


@dataclass
class PhotosForm:
    """``POST /api/complaints/track/photos``: the tracking code and the photos."""

    tracking_code: str
    photos: list[UploadFile] = field(default_factory=list)


ADD_PHOTOS_DESCRIPTION = """
`multipart/form-data`: `tracking_code` and one to six parts named `photos` (as for filing). For photos
that could not be stored when the complaint was filed (its answer then had `photos_not_stored`): the
tracking code is the permission, no account is needed. Only while the complaint is open (409
`complaint_closed` after), at most six photos in all (422 `too_many_photos`). If file storage is still
unavailable: 503 `storage_unavailable` with `Retry-After` — try again later.

凭查询码为投诉补传照片（提交时文件存储暂不可用、照片未保存的情况）。
""".strip()


TEXT_FORMS = ("application/json", "application/x-www-form-urlencoded")


def _form_text(value: str | float) -> str:
    """A JSON value as the form would carry it (``true`` -> ``"true"``, ``46.6`` -> ``"46.6"``)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


async def complaint_form_body(request: Request[Any, Any, Any]) -> None:
    """Before the body is read: a complaint with photos comes as multipart/form-data; one without may
    also come as JSON (an object of strings) or form-encoded. Those two are read here, checked like
    any JSON or form body (``backend.core.inputs``), and handed on as the form's fields."""
    media_type = request.content_type[0]
    if media_type not in TEXT_FORMS:
        await require_multipart(request)
        return
    body = await request.body()
    if len(body) > request.app.state.settings.max_body_bytes:
        raise AppError("Request body too large", status_code=413, code="body_too_large", detail_zh="请求内容过大")
    if media_type == "application/json":
        value = checked_json(body)
        try:  # as strictly as any JSON body (the document describes these fields)
            msgspec.convert(value, ComplaintForm, strict=True)
        except msgspec.ValidationError as exc:
            raise ValidationException(
                "Validation failed for the complaint", extra=[{"message": str(exc), "key": "data", "source": "body"}]
            ) from exc
        fields = {k: _form_text(v) for k, v in value.items() if v is not None}
    else:
        check_form_encoded(body, "body")
        fields = _form_fields(body)
    ScopeState.from_scope(request.scope).form = fields


def _form_fields(body: bytes) -> dict[str, str | list[str]]:
    """An urlencoded body's fields (checked UTF-8 above): a name given more than once keeps every value,
    as a list, which the form's single-valued fields then refuse."""
    values: defaultdict[str, list[str]] = defaultdict(list)
    for name, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True, separator="&"):
        values[name].append(value)
    return {name: found if len(found) > 1 else found[0] for name, found in values.items()}


def _checked(form: FilingForm) -> ComplaintForm:
    fields = {k: v for k, v in vars(form).items() if k != "photos" and v not in (None, "")}
    try:
        return msgspec.convert(fields, ComplaintForm, strict=False)
    except msgspec.ValidationError as exc:
        key = str(exc).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(exc) else None
        raise ValidationException(
            "Validation failed for the complaint form", extra=[{"message": str(exc), "key": key, "source": "body"}]
        ) from exc


async def _fingerprint(form: ComplaintForm, photos: list[UploadFile]) -> bytes:
    """What makes two filings the same request: the checked form and the photos' bytes, in order."""
    digest = hashlib.sha256(b"POST /api/complaints\n" + msgspec.json.encode(form))
    for photo in photos:
        digest.update(b"\n" + hashlib.sha256(await photo.read()).digest())
        await photo.seek(0)
    return digest.digest()


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
        opt={**requires(P.FILE), **multipart_form(ComplaintForm, "photos", service.MAX_PHOTOS, text_forms=TEXT_FORMS)},
        before_request=complaint_form_body,
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
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                pattern=idempotency.SEALED_KEY_PATTERN,
                required=False,
                description="A random key (e.g. a UUID) per complaint: a retry with the same key and form "
                "answers the first filing again, tracking code included, instead of filing twice",
            ),
        ] = None,
    ) -> Response[Filed]:
        settings: Settings = state.settings
        form = _checked(data)
        sealed = None
        if idempotency_key is not None:
            sealed = idempotency.Sealed(
                settings.secret_key, "POST /api/complaints", idempotency_key, await _fingerprint(form, data.photos)
            )
            if (replay := await idempotency.sealed_replay(db, sealed)) is not None:
                return replay

        async def keep(filed: Filed) -> None:
            if sealed is not None:
                await idempotency.seal(db, sealed, 201, msgspec.json.encode(filed))

        try:
            filed = await service.file_complaint(
                db,
                settings,
                storage,
                principal_of(request),
                form,
                data.photos,
                client=client,
                device=device_id,
                before_commit=keep,
            )
        except idempotency.ClaimedMeanwhile:
            assert sealed is not None
            if (replay := await idempotency.sealed_replay(db, sealed)) is not None:
                return replay
            raise  # pragma: no cover - the row that made the insert wait is committed
        return Response(filed, status_code=201)

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

    @post(
        "/track/photos",
        opt={**requires(P.ADD_PHOTOS), **multipart_form(TrackIn, "photos", service.MAX_PHOTOS)},
        before_request=require_multipart,
        request_max_body_size=FILING_MAX_BODY,
        status_code=201,
        responses=error_responses(400, 404, 409, 413, 415, 422, 429, 503),
        summary="Add photos by the tracking code / 凭查询码补传照片",
        description=ADD_PHOTOS_DESCRIPTION,
    )
    async def add_photos(
        self,
        db: Db,
        state: State,
        storage: NamedDependency[Storage],
        client: NamedDependency[str],
        data: MultipartBody[PhotosForm],
        device_id: Annotated[
            str | None, HeaderParameter(name="X-Device-Id", pattern=r"^[A-Za-z0-9_-]{1,64}$", required=False)
        ] = None,
    ) -> PhotosAdded:
        try:
            code = msgspec.convert({"tracking_code": data.tracking_code}, TrackIn).tracking_code
        except msgspec.ValidationError as exc:
            raise ValidationException(
                "Validation failed for the tracking code",
                extra=[{"message": str(exc), "key": "tracking_code", "source": "body"}],
            ) from exc
        return await service.add_photos(db, state.settings, storage, code, data.photos, client=client, device=device_id)

    @get("/mine", opt=requires(P.LIST_MINE), responses=error_responses(401), summary="My complaints / 我的投诉")
    async def mine(self, db: Db, caller: CallerDep) -> list[MyComplaint]:
        return await service.mine(db, caller.principal, P.LIST_MINE)

    @get(
        "/mine/{complaint_id:uuid}",
        opt=requires(P.READ_MINE),
        responses=error_responses(401, 404),
        summary="A complaint I filed / 我的投诉详情",
    )
    async def my_complaint(self, db: Db, caller: CallerDep, complaint_id: FromPath[uuid.UUID]) -> MyComplaint:
        return await service.my_complaint(db, caller.principal, complaint_id, P.READ_MINE)

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
        self, db: Db, caller: CallerDep, institution_id: FromPath[uuid.UUID]
    ) -> list[StaffComplaint]:
        """Only complaints an officer has accepted; never who filed them or how to reach them."""
        return await service.institution_complaints(db, caller.principal, institution_id, P.INSTITUTION_LIST)

    @get(
        "/{complaint_id:uuid}",
        opt=requires(P.INSTITUTION_READ),
        responses=error_responses(401, 403, 404),
        summary="An accepted complaint about my institution / 被投诉事项详情",
    )
    async def read_for_institution(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        complaint_id: FromPath[uuid.UUID],
    ) -> StaffComplaint:
        return await service.institution_complaint(
            db, caller.principal, institution_id, complaint_id, P.INSTITUTION_READ
        )


def complaints_router() -> Router:
    return Router("/", route_handlers=[ComplaintController, InstitutionComplaintController, DeskController])


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [complaints_router(), open311_router()],
    tags=[
        Tag(name=TAGS[0], description="Complaints from the public: filing, tracking, figures"),
        Tag(name=OPEN311_TAGS[0], description="Open311 GeoReport v2 (JSON) over the complaints"),
    ],
)
