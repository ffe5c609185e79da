"""The PWA's built files, served with their precompressed twins.

``make pwa`` writes ``name.br`` (brotli) and ``name.gz`` (gzip) next to every text file of ``pwa/dist``
(``pwa/scripts/precompress.mjs``). A request for ``name`` whose ``Accept-Encoding`` allows one of them
gets it (brotli first) with ``Content-Encoding`` and ``Vary: Accept-Encoding``; others get the plain
file. Images and fonts are already compressed and have no twins. Nothing is compressed while serving.

Hashed build output (``/assets/…``: the name changes with the content) may be cached for a year; every
other file (``index.html``, ``sw.js``, the manifest, icons) is revalidated (``no-cache``) so an update
reaches users at their next visit.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from litestar import Request, Router, get, head
from litestar.exceptions import NotFoundException
from litestar.file_system import BaseLocalFileSystem
from litestar.params import FromPath
from litestar.response.file import ASGIFileResponse
from litestar.static_files.base import StaticFiles

# Files the build precompresses (and the only ones that may carry a Content-Encoding here).
COMPRESSIBLE = frozenset({".html", ".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".txt", ".xml", ".map"})
ENCODINGS: tuple[tuple[str, str], ...] = (("br", ".br"), ("gzip", ".gz"))
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".mjs")


def accepted_encodings(header: str) -> set[str]:
    """The codings an ``Accept-Encoding`` header allows (``q=0`` refuses one; ``*`` allows any)."""
    allowed: set[str] = set()
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            allowed.add(name)
    if "*" in allowed:
        allowed |= {coding for coding, _ in ENCODINGS}
    return allowed


def negotiate(
    path: Path, request_headers: Mapping[str, str], *, precompressed: bool = True, cache_control: str | None = None
) -> tuple[Path, str, dict[str, str]]:
    """The file to send for ``path`` (itself or a precompressed twin the request accepts), its media
    type, and the response headers that go with it."""
    name = path.name
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers: dict[str, str] = {"Cache-Control": cache_control or REVALIDATE}
    served = path
    if precompressed and path.suffix.lower() in COMPRESSIBLE:
        headers["Vary"] = "Accept-Encoding"
        allowed = accepted_encodings(request_headers.get("accept-encoding", ""))
        for coding, suffix in ENCODINGS:
            twin = path.with_name(name + suffix)
            if coding in allowed and twin.is_file():
                served = twin
                headers["Content-Encoding"] = coding
                break
    return served, media, headers


def file_response(
    path: Path,
    request_headers: Mapping[str, str],
    *,
    is_head: bool = False,
    precompressed: bool = True,
    cache_control: str | None = None,
) -> ASGIFileResponse:
    """``path`` (an existing file), or its precompressed twin when the request accepts one."""
    served, media, headers = negotiate(path, request_headers, precompressed=precompressed, cache_control=cache_control)
    return ASGIFileResponse(
        file_path=served,
        file_system=BaseLocalFileSystem(),
        filename=path.name,
        media_type=media,
        content_disposition_type="inline",
        is_head_response=is_head,
        headers=headers,
    )


class PrecompressedFiles:
    """Resolves request paths inside one directory (Litestar's own traversal-safe lookup) and answers
    them with :func:`file_response`."""

    def __init__(self, directory: Path, *, precompressed: bool = True) -> None:
        self.directory = directory
        self.precompressed = precompressed
        self._lookup = StaticFiles(is_html_mode=True, directories=[directory], file_system=BaseLocalFileSystem())

    async def resolve(self, path: str) -> Path | None:
        parts = [p for p in path.split("/") if p]
        if any(p.endswith((".br", ".gz")) for p in parts[-1:]):
            return None  # the twins are served only through content negotiation
        found, info = await self._lookup.get_fs_info(directories=[self.directory], file_path=Path(*parts or ["."]))
        if found is not None and info and info["type"] == "directory":
            found, info = await self._lookup.get_fs_info(directories=[self.directory], file_path=found / "index.html")
        if found is None or not info or info["type"] != "file":
            return None
        return Path(found)

    async def respond(self, request: Request[Any, Any, Any], path: str, *, is_head: bool) -> ASGIFileResponse:
        found = await self.resolve(path)
        if found is None:
            raise NotFoundException(f"no file at {path}")
        immutable = path.lstrip("/").startswith("assets/")
        return file_response(
            found,
            request.headers,
            is_head=is_head,
            precompressed=self.precompressed,
            cache_control=IMMUTABLE if immutable else None,
        )


def precompressed_files_router(
    directory: Path, *, name: str, opt: dict[str, Any], precompressed: bool = True
) -> Router:
    """``GET /``, ``GET /{file_path}`` and ``HEAD /{file_path}`` over ``directory`` (the routes
    Litestar's ``create_static_files_router(html_mode=True)`` has, with content negotiation)."""
    files = PrecompressedFiles(directory, precompressed=precompressed)

    @get("/{file_path:path}", name=name)
    async def get_file(request: Request[Any, Any, Any], file_path: FromPath[PurePath]) -> ASGIFileResponse:
        return await files.respond(request, file_path.as_posix(), is_head=False)

    @head("/{file_path:path}", name=f"{name}/head")
    async def head_file(request: Request[Any, Any, Any], file_path: FromPath[PurePath]) -> ASGIFileResponse:
        return await files.respond(request, file_path.as_posix(), is_head=True)

    @get("/", name=f"{name}/index")
    async def index(request: Request[Any, Any, Any]) -> ASGIFileResponse:
        return await files.respond(request, "/", is_head=False)

    return Router(path="/", route_handlers=[get_file, head_file, index], include_in_schema=False, opt=opt)
