"""Compression of API answers on the fly (Litestar's ``CompressionMiddleware``), minus what must not be.

Answers of at least ``MINIMUM_SIZE`` bytes are gzipped when the client accepts it. Skipped: answers
that already carry a ``Content-Encoding`` (the PWA's precompressed files, ``backend/core/static.py``),
and media types that are compressed already (images, audio, video, archives, fonts, PDFs) — uploaded
photos are served as they are. ``COMPRESSION=false`` turns all of it off (the uncompressed baseline of
``bench/first_load.py``).

Why gzip and not brotli: measured on the nearby-search JSON (BENCHMARKS.md, "First load"), brotli at
the quality that costs as little CPU as gzip-6 saves only a few percent of bytes on answers this size,
so the API uses gzip; static files, compressed once at build time, get brotli at its best quality.
"""

from __future__ import annotations

from typing import Literal

from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Message, Scope, Send

MINIMUM_SIZE = 1024
GZIP_LEVEL = 6
ALREADY_COMPRESSED = ("image/", "audio/", "video/", "font/")
ALREADY_COMPRESSED_TYPES = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/pdf",
        "application/octet-stream",
        "application/wasm",
        "application/x-7z-compressed",
    }
)


def compressible(headers: Headers) -> bool:
    if headers.get("content-encoding"):
        return False
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not media:
        return True
    return not media.startswith(ALREADY_COMPRESSED) or media == "image/svg+xml"


def _allowed(media: str) -> bool:
    return media not in ALREADY_COMPRESSED_TYPES


class SelectiveCompressionMiddleware(CompressionMiddleware):
    """Litestar's middleware, passing through answers that are encoded or compressed already."""

    def create_compression_send_wrapper(
        self,
        send: Send,
        compression_encoding: Literal[CompressionEncoding.BROTLI, CompressionEncoding.GZIP] | str,
        scope: Scope,
    ) -> Send:
        compressing = super().create_compression_send_wrapper(send, compression_encoding, scope)
        target: Send | None = None

        async def wrapper(message: Message) -> None:
            nonlocal target
            if message["type"] == "http.response.start":
                headers = Headers.from_scope(message)  # type: ignore[arg-type]
                media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
                target = compressing if compressible(headers) and _allowed(media) else send
            await (target or compressing)(message)

        return wrapper


def compression_config(enabled: bool) -> CompressionConfig | None:
    if not enabled:
        return None
    return CompressionConfig(
        backend="gzip",
        minimum_size=MINIMUM_SIZE,
        gzip_compress_level=GZIP_LEVEL,
        middleware_class=SelectiveCompressionMiddleware,
    )
