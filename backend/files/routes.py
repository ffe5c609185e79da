"""Files over HTTP: ``POST /api/uploads``, ``GET /api/files/signed/{token}`` (LocalStorage's presigned
URLs), and the response other domains serve attachments with."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Tag
from litestar.params import FromPath, MultipartBody, QueryParameter

from backend.core.authz import requires
from backend.core.config import Settings
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import AppError, BadRequest, NotFound, error_responses
from backend.core.storage import LocalStorage, ObjectNotFound, Storage
from backend.files import permissions as P
from backend.files import service
from backend.files.schemas import DocumentOut, DocumentPurpose, Purpose, UploadForm, UploadOut

# Room for the multipart framing (boundaries, part headers) around a file of UPLOAD_MAX_BYTES.
MULTIPART_OVERHEAD = 64 * 1024
TAGS = ["files · 文件"]
UPLOAD_DESCRIPTION = """
`multipart/form-data` with one part named `file`: a JPEG, PNG or WebP image, recognised by its content
(the file name and declared type are ignored), of at most `UPLOAD_MAX_BYTES` (8 MiB by default) and
`UPLOAD_MAX_PIXELS` (50 megapixels). The image is re-encoded in its format: the EXIF orientation is
applied and all metadata — GPS position, camera, time, comments, colour profile — removed; notice
images are shrunk to fit 2560×2560. Animated images are refused.

Use the returned `id` where the upload belongs (e.g. a notice's images) within 24 hours: uploads that
are not attached by then are deleted. At most `UPLOAD_MAX_PER_HOUR` (60) attempts per account per hour.

上传一张图片（JPEG、PNG 或 WebP，按内容识别，最大 8 MB）。服务器会按拍摄方向摆正图片，并删除全部元数据
（包括 GPS 位置）。返回的 `id` 须在 24 小时内用于通知等内容，否则图片会被删除。
""".strip()


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"
    detail_zh = "请以 multipart/form-data 格式上传文件"


async def require_multipart(request: Request[Any, Any, Any]) -> None:
    """Before the body is read: it must be multipart/form-data (this replaces the app-wide JSON check)."""
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise UnsupportedMediaType("Send the file as multipart/form-data")
    if not options.get("boundary"):
        raise BadRequest(
            "The multipart/form-data content type has no boundary",
            detail_zh="multipart/form-data 缺少 boundary 参数",
            code="bad_multipart",
        )


class UploadController(Controller):
    path = "/api/uploads"
    tags = TAGS

    @post(
        "/",
        opt=requires(P.UPLOAD),
        before_request=require_multipart,
        status_code=201,
        responses=error_responses(400, 401, 403, 413, 415, 422, 429, 503),
        summary="Upload an image / 上传图片",
        description=UPLOAD_DESCRIPTION,
    )
    async def upload(
        self,
        db: Db,
        state: State,
        storage: NamedDependency[Storage],
        caller: CallerDep,
        purpose: Annotated[Purpose, QueryParameter(description="What the file is for")],
        data: MultipartBody[UploadForm],
    ) -> UploadOut:
        return await service.create_upload(db, state.settings, storage, caller.principal, purpose, data.file)


DOCUMENT_MAX_BYTES = service.max_bytes("filing_document")
DOCUMENT_DESCRIPTION = f"""
`multipart/form-data` with one part named `file`: a document for a filing (备案材料) — a **PDF** or a
JPEG, PNG or WebP image (a photo or scan of a certificate), recognised by its content (the file name
and declared type are ignored), of at most {DOCUMENT_MAX_BYTES // (1024 * 1024)} MiB. A PDF must be
complete (header, cross-reference, `%%EOF`) and carry no scripts, launch actions or embedded files
(422 `pdf_corrupt`, `pdf_active_content`); it is stored as uploaded. Images are cleaned like every
other upload (orientation applied, metadata removed, shrunk to fit 4096×4096). Anything else answers
422 `document_unsupported`, a larger file 413.

Attach the returned `id` to your institution's filing (`PUT /api/institutions/{{id}}/filing`) within
24 hours, or it is deleted. Uploads count against `UPLOAD_MAX_PER_HOUR` like images.

上传备案材料：PDF 文件或证照照片（JPEG、PNG、WebP，按内容识别），最大 {DOCUMENT_MAX_BYTES // (1024 * 1024)} MB。
""".strip()


class DocumentUploadController(Controller):
    path = "/api/uploads/documents"
    tags = TAGS

    @post(
        "/",
        opt=requires(P.UPLOAD),
        before_request=require_multipart,
        status_code=201,
        responses=error_responses(400, 401, 403, 413, 415, 422, 429, 503),
        summary="Upload a document / 上传材料文件",
        description=DOCUMENT_DESCRIPTION,
        # Its own body limit (documents are larger than images): refused with 413 before it is read.
        request_max_body_size=DOCUMENT_MAX_BYTES + MULTIPART_OVERHEAD,
    )
    async def upload_document(
        self,
        db: Db,
        state: State,
        storage: NamedDependency[Storage],
        caller: CallerDep,
        purpose: Annotated[DocumentPurpose, QueryParameter(description="What the document is for")],
        data: MultipartBody[UploadForm],
    ) -> DocumentOut:
        return await service.create_document_upload(db, state.settings, storage, caller.principal, purpose, data.file)


SIGNED_DESCRIPTION = """
A short-lived link to a stored image, handed out by the API where the caller may see the image (e.g.
a complaint's photos for the officers handling it) — with `STORAGE_BACKEND=local`; with `s3` the links
point at the S3 server instead. No sign-in: the token is the permission. It is an HMAC (keyed by
`SECRET_KEY`) over the file, its content type and the expiry. An altered or unknown token answers 404,
an expired one 403 `link_expired` (ask the API for a new link).

临时图片链接（无需登录，链接本身即授权）；链接被篡改时返回 404，过期时返回 403。
""".strip()


class SignedFileController(Controller):
    path = "/api/files/signed"
    tags = TAGS

    @get(
        "/{token:str}",
        opt=requires(P.SIGNED_READ),
        responses=error_responses(403, 404, 503),
        summary="Open a signed file link / 打开临时图片链接",
        description=SIGNED_DESCRIPTION,
        media_type="application/octet-stream",
    )
    async def signed(self, storage: NamedDependency[Storage], token: FromPath[str]) -> Response[bytes]:
        if not isinstance(storage, LocalStorage):  # S3's links are served by the S3 server
            raise NotFound("file")
        signed = storage.open_signed(token)
        try:
            data = await storage.get(signed.key)
        except ObjectNotFound:
            raise NotFound("file") from None
        return attachment_response(data, signed.content_type, max_age=signed.seconds_left())


def uploads_router(settings: Settings) -> Router:
    """The file routes. Uploads may have bodies up to UPLOAD_MAX_BYTES (the app-wide limit is
    MAX_BODY_BYTES), refused with 413 before they are read when ``Content-Length`` says more, or as
    soon as more arrives."""
    return Router(
        "/",
        route_handlers=[UploadController, DocumentUploadController, SignedFileController],
        request_max_body_size=settings.upload_max_bytes + MULTIPART_OVERHEAD,
    )


def attachment_response(data: bytes, content_type: str, *, max_age: int = 3600) -> Response[bytes]:
    """How to serve an attachment's bytes (from ``service.read_attachment``): inline, never sniffed,
    cached only by the caller's own browser (for ``max_age`` seconds: no longer than a signed link lives)."""
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Cache-Control": f"private, max-age={max_age}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline",
        },
    )


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda settings: [uploads_router(settings)],
    tags=[Tag(name=TAGS[0], description="Uploaded images (attached to notices and, later, complaints)")],
)
