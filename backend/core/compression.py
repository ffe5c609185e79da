"""Compression of API answers on the fly (Litestar's ``CompressionMiddleware``), minus what must not be.

Answers of at least ``MINIMUM_SIZE`` bytes are gzipped when the client accepts it. Skipped: answers
that already carry a ``Content-Encoding`` (the PWA's precompressed files, ``backend/core/static.py``),
and media types that are compressed already (images, audio, video, archives, fonts, PDFs) — uploaded
photos are served as they are. ``COMPRESSION=false`` turns all of it off (the uncompressed baseline of
``bench/first_load.py``).

Why gzip and not brotli: measured by ``bench/first_load.py`` on the nearby-search JSON (57 KB raw, 50
results; BENCHMARKS.md, "First load"): gzip-6 8.1 KB, brotli-4 7.5 KB at about the same CPU time,
brotli-5 7.0 KB at nearly twice it. Brotli saves about 0.6 KB per answer, some 3 ms at 1.6 Mbps —
not worth a compiled runtime dependency. If answers grow, ``backend="brotli", brotli_quality=4``
(with the gzip fallback) is the one-line change. The static files, the large part of a first visit,
get brotli at its best quality at build time.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar.config.compression import CompressionConfig
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


def compressible(raw: Any) -> bool:
    """Whether an answer with these raw headers is gzipped: not encoded already, and not a media type
    that is compressed already. One pass, no header object: this runs for every answer that asked for gzip."""
    media = ""
    for name, value in raw:
        lowered = name.lower()
        if lowered == b"content-encoding" and value:
            return False
        if lowered == b"content-type" and not media:
            media = value.decode("latin-1").split(";", 1)[0].strip().lower()
    if not media:
        return True
    if media in ALREADY_COMPRESSED_TYPES:
        return False
    return not media.startswith(ALREADY_COMPRESSED) or media == "image/svg+xml"


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
                target = compressing if compressible(message.get("headers") or ()) else send
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
