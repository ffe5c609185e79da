from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from litestar.datastructures import UploadFile

from backend.core.schemas import Output

Purpose = Literal["notice_image"]
ImageContentType = Literal["image/jpeg", "image/png", "image/webp"]


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
