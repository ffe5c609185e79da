"""Uploads over HTTP: ``POST /api/uploads``, and the response other domains serve attachments with."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, Router, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import MultipartBody, QueryParameter

from backend.core.authz import Principal, requires
from backend.core.config import Settings
from backend.core.deps import Db
from backend.core.errors import AppError, BadRequest, error_responses
from backend.core.storage import Storage
from backend.files import permissions as P
from backend.files import service
from backend.files.schemas import Purpose, UploadForm, UploadOut

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
        request: Request[Principal, Any, Any],
        purpose: Annotated[Purpose, QueryParameter(description="What the file is for")],
        data: MultipartBody[UploadForm],
    ) -> UploadOut:
        return await service.create_upload(db, state.settings, storage, request.user, purpose, data.file)


def uploads_router(settings: Settings) -> Router:
    """The upload routes, allowed bodies up to UPLOAD_MAX_BYTES (the app-wide limit is MAX_BODY_BYTES)."""
    return Router(
        "/", route_handlers=[UploadController], request_max_body_size=settings.upload_max_bytes + MULTIPART_OVERHEAD
    )


def attachment_response(data: bytes, content_type: str) -> Response[bytes]:
    """How to serve an attachment's bytes (from ``service.read_attachment``): inline, never sniffed,
    cached only by the caller's own browser."""
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline",
        },
    )
