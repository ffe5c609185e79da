"""The API documentation pages (``/schema``: Scalar, ``/schema/swagger``: Swagger UI), self-hosted.

Their renderers are npm packages pinned in ``pwa/package-lock.json`` (``@scalar/api-reference``'s
standalone bundle, ``swagger-ui-dist``), copied by ``make pwa`` into ``pwa/dist/schema-assets/`` and
served from there by the app itself: no CDN at run time (a public CDN is unreliable or unreachable
where the city deploys). The pages' policy (``docs_policy``) allows nothing but this origin, plus
the inline script each renderer starts with. ``tests/pwa/test_self_hosted.py`` opens every page and
fails on any request that leaves the origin.
"""

from __future__ import annotations

from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin

ASSETS = "/schema-assets"
FAVICON = "<link rel='icon' type='image/png' href='/icons/icon-192.png'>"
# Scalar's defaults that would reach outside: its web fonts (fonts.scalar.com) and its request proxy.
SCALAR_OPTIONS = {"withDefaultFonts": False, "hideClientButton": True, "telemetry": False}


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [
        ScalarRenderPlugin(
            js_url=f"{ASSETS}/scalar-api-reference.js",
            css_url=f"{ASSETS}/scalar.css",
            options=SCALAR_OPTIONS,
            favicon=FAVICON,
        ),
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
    ]


def docs_policy() -> str:
    """The documentation pages' Content-Security-Policy: this origin only; the renderers start with an
    inline script and style their components inline."""
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'"
    )
