from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from litestar.datastructures import UploadFile

from backend.core.schemas import Output

# The purposes POST /api/uploads takes (complaint photos come inline with the complaint instead).
Purpose = Literal["notice_image", "room_photo", "institution_cover"]
ImageContentType = Literal["image/jpeg", "image/png", "image/webp"]
# Filing documents (``POST /api/uploads/documents``): a PDF or an image.
DocumentPurpose = Literal["filing_document", "health_report"]
DocumentContentType = Literal["application/pdf", "image/jpeg", "image/png", "image/webp"]


@dataclass
class UploadForm:
    """``multipart/form-data`` with one file part named ``file``."""

    file: UploadFile


class UploadOut(Output):
    id: uuid.UUID
    content_type: ImageContentType
    byte_size: int
    width: int
    height: int


class PresignedOut(Output):
    """An attachment with a short-lived URL: anyone holding ``url`` can fetch the image until
    ``expires_at`` (no sign-in needed, so never store or forward it)."""

    id: uuid.UUID
    url: str
    content_type: ImageContentType
    width: int
    height: int
    expires_at: dt.datetime


class DocumentOut(Output):
    """An uploaded document: a PDF (no ``width``/``height``) or a cleaned image."""

    id: uuid.UUID
    content_type: DocumentContentType
    byte_size: int
    width: int | None
    height: int | None


class PresignedDocumentOut(Output):
    """A document attachment with a short-lived URL (anyone holding ``url`` can fetch it until
    ``expires_at``: never store or forward it)."""

    id: uuid.UUID
    url: str
    content_type: DocumentContentType
    byte_size: int
    width: int | None
    height: int | None
    expires_at: dt.datetime
