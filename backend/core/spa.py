"""Serving the PWA: its built files at ``/`` and, for the app's own deep links, its ``index.html``.

The PWA routes with real paths (``/bookings/…``, ``/notices/…``: the URLs that notifications carry), so
a browser that opens one of them asks the server for a page that is not a file. A GET for an unknown
path outside the API that accepts HTML answers the app's ``index.html`` (200, not cached); everything
else keeps the JSON 404 from the API's error handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import File

from backend.core.config import REPO_ROOT
from backend.core.errors import http_exception_handler
from backend.core.static import negotiate

NOT_APP_PREFIXES = ("/api/", "/ws", "/schema", "/open311/", "/assets/", "/icons/")
# The liveness probe is exactly /health; the app's health screens live under /health/ (the links of the
# health_follow_up and health_cluster events: realtime/events.py).
NOT_APP_PATHS = ("/health",)


def pwa_directory(configured: Path | None = None) -> Path:
    """PWA_DIR if set, else the built PWA (``pwa/dist``, from ``make pwa``) if there is one, else the
    placeholder page."""
    if configured is not None:
        return configured
    built = REPO_ROOT / "pwa" / "dist"
    return built if (built / "index.html").exists() else REPO_ROOT / "pwa" / "placeholder"


def is_app_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return (
        request.method == "GET"
        and not path.startswith(NOT_APP_PREFIXES)
        and path.rstrip("/") not in NOT_APP_PATHS
        and "." not in path.rsplit("/", 1)[-1]  # a missing file (x.js, y.png) stays a 404
        and "text/html" in request.headers.get("accept", "")
    )


def spa_fallback_handler(directory: Path, precompressed: bool = True) -> Any:
    index = directory / "index.html"

    def handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        if exc.status_code == 404 and is_app_page(request) and index.exists():
            served, media_type, headers = negotiate(index, request.headers, precompressed=precompressed)
            return File(
                path=served,
                filename="index.html",
                media_type=media_type,  # text/html: Litestar adds "; charset=utf-8" itself, once
                content_disposition_type="inline",
                headers=headers,
            )
        return http_exception_handler(request, exc)

    return handler
