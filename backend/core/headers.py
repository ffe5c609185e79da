"""Security headers on every HTTP response: API JSON, errors (also those raised before routing: 404,
405, 413, 401 from the auth middleware), the PWA's pages and files, uploaded files.

Added by a ``before_send`` hook, which sees every response the app sends, whoever made it:

* ``Content-Security-Policy`` — the PWA's: scripts only from this origin (no inline script, no
  ``eval``), map tiles (AMap ``*.autonavi.com``, OpenStreetMap ``*.openstreetmap.org``) and
  presigned S3 URLs as images, ``connect-src`` this origin and its WebSocket (plus the tile hosts,
  which the service worker fetches to cache them), no plugins, no ``<base>`` games, forms only to
  this origin, and never framed (``frame-ancestors 'none'``). Styles allow inline ``style``
  attributes (Vue and Vant render some); inline ``<script>`` is what XSS needs, and it is refused.
  The API documentation under ``/schema`` gets its own (backend/core/apidocs.py). A route that
  sets its own policy keeps it (uploaded files: a sandbox).
* ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY`` everywhere;
  ``Referrer-Policy: strict-origin-when-cross-origin`` (no paths — which carry ids — leave the site);
* ``Strict-Transport-Security`` in production only (https is required there; a development server on
  http://127.0.0.1 must not pin browsers to https).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from backend.core.apidocs import docs_policy
from backend.core.config import Settings

TILE_HOSTS = ("https://*.autonavi.com", "https://*.openstreetmap.org")
HSTS = "max-age=31536000; includeSubDomains"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def app_policy(settings: Settings) -> str:
    """The PWA's Content-Security-Policy (sent with every response that does not set its own)."""
    public = urlsplit(settings.public_base_url)
    socket = f"{'wss' if public.scheme == 'https' else 'ws'}://{public.netloc}" if public.netloc else ""
    s3 = _origin(settings.s3_public_endpoint) if settings.storage_backend == "s3" else ""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *TILE_HOSTS, s3],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", socket, *TILE_HOSTS],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(v for v in values if v)}" for name, values in directives.items())


def security_headers(settings: Settings) -> Any:
    """The ``before_send`` hook. The headers are encoded once, here; per response it makes one pass
    over the response's header names (this runs for every answer, public reads included)."""
    app_csp = (b"content-security-policy", app_policy(settings).encode())
    docs_csp = (b"content-security-policy", docs_policy().encode())
    referrer = (b"referrer-policy", b"strict-origin-when-cross-origin")
    always = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
    if settings.is_production:
        always.append((b"strict-transport-security", HSTS.encode()))
    replaced = frozenset(name for name, _ in always)  # set even when a response has them already

    async def hook(message: Any, scope: Any) -> None:
        if message.get("type") != "http.response.start":
            return
        headers = message.get("headers")
        headers = [] if headers is None else list(headers)
        names = {name.lower() for name, _ in headers}
        if not names.isdisjoint(replaced):
            headers = [(name, value) for name, value in headers if name.lower() not in replaced]
        if b"content-security-policy" not in names:
            path = scope.get("path", "")
            docs_page = path.startswith("/schema") and not path.endswith((".json", ".yaml"))
            headers.append(docs_csp if docs_page else app_csp)
        headers += always
        if b"referrer-policy" not in names:
            headers.append(referrer)
        message["headers"] = headers

    return hook
