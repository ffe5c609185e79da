"""Security headers on every kind of response (backend/core/headers.py), and CORS limited to the
allowed origins (ALLOWED_ORIGINS)."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest
from sqlalchemy import select

from backend.app import create_app
from backend.core import crypto
from backend.core.authz import Role
from backend.core.headers import app_policy, security_headers
from backend.core.spa import pwa_directory
from backend.files.models import Upload
from tests.imagedata import PNG

HTML = {"Accept": "text/html,application/xhtml+xml"}


def csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def assert_common(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", response.request.url
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # development and test: plain http


def assert_app_policy(response: httpx.Response) -> None:
    assert_common(response)
    d = csp(response)
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'"]  # no inline script, no eval, no other host
    assert d["object-src"] == ["'none'"] and d["base-uri"] == ["'self'"] and d["form-action"] == ["'self'"]
    assert {"https://*.autonavi.com", "https://*.openstreetmap.org"} <= set(d["img-src"])
    assert "'self'" in d["connect-src"] and "ws://127.0.0.1:8000" in d["connect-src"]
    assert d["worker-src"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in v for k, vs in d.items() if k != "style-src" for v in vs)


def static_asset() -> str:
    """A file of the served PWA other than index.html (an icon, the manifest or a built script)."""
    root = pwa_directory()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "index.html")
    return "/" + (files[0] if files else root / "index.html").relative_to(root).as_posix()


@pytest.mark.parametrize(
    ("what", "method", "path", "headers", "status"),
    [
        ("API JSON", "GET", "/api/units", {}, 200),
        ("health", "GET", "/health", {}, 200),
        ("error JSON: no such route", "GET", "/api/no-such-thing", {}, 404),
        ("error JSON: no such object", "GET", f"/api/institutions/{uuid.uuid4()}", {}, 404),
        ("error JSON: signed out (auth middleware)", "GET", "/api/me", {}, 401),
        ("error JSON: bad token (auth middleware)", "GET", "/api/me", {"Authorization": "Bearer nope"}, 401),
        ("error JSON: wrong method", "DELETE", "/api/units", {}, 405),
        ("error JSON: bad query", "GET", "/api/institutions/nearby?lat=x&lng=y", {}, 400),
        ("OpenAPI document", "GET", "/schema/openapi.json", {}, 200),
        ("PWA index", "GET", "/", HTML, 200),
        ("PWA deep link", "GET", "/bookings/123", HTML, 200),
    ],
)
async def test_every_kind_of_response_carries_the_headers(client, what, method, path, headers, status):
    response = await client.request(method, path, headers=headers)
    assert response.status_code == status, (what, response.text[:200])
    assert_app_policy(response)


async def test_a_static_asset_of_the_pwa(client):
    response = await client.get(static_asset())
    assert response.status_code == 200
    assert_app_policy(response)


async def test_a_validation_error_and_a_rate_limit_refusal(client, factory):
    _, headers = await factory.signed_in()
    bad = await client.patch("/api/me", headers=headers, json={"display_name": 5})
    assert bad.status_code == 400
    assert_app_policy(bad)
    for _ in range(30):
        refused = await client.post("/api/auth/login", json={"login": "headers@test.example", "password": "x"})
        if refused.status_code == 429:
            break
    assert refused.status_code == 429
    assert_app_policy(refused)


async def test_an_uploaded_file_keeps_its_own_sandbox_policy_and_gets_nosniff(client, factory, db, app):
    _, headers = await factory.signed_in(Role.PARENT)
    r = await client.post(
        "/api/uploads",
        params={"purpose": "notice_image"},
        headers=headers,
        files={"file": ("x.png", PNG, "image/png")},
    )
    assert r.status_code == 201, r.text
    row = await db.scalar(select(Upload).where(Upload.id == uuid.UUID(r.json()["id"])))
    url = await app.state["storage"].presigned_get(row.storage_key, expires_s=60, content_type=row.content_type)
    served = await client.get(httpx.URL(url).raw_path.decode())
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert_common(served)
    assert "sandbox" in served.headers["content-security-policy"]  # the route's own, stricter policy
    assert "script-src 'self'" not in served.headers["content-security-policy"]


async def test_the_api_documentation_gets_its_own_policy(client):
    response = await client.get("/schema/swagger")
    assert response.status_code == 200
    assert_common(response)
    # The renderers are served by the app itself (backend/core/apidocs.py): this origin only.
    assert csp(response)["script-src"] == ["'self'", "'unsafe-inline'"]
    assert all("http" not in source for directive in csp(response).values() for source in directive)
    assert csp(response)["frame-ancestors"] == ["'none'"]


def test_hsts_in_production_only(settings):
    async def headers_for(s) -> dict[bytes, bytes]:
        message = {"type": "http.response.start", "status": 200, "headers": []}
        await security_headers(s)(message, {"path": "/api/units"})
        return dict(message["headers"])

    import asyncio

    production = dataclasses.replace(settings, env="production", public_base_url="https://tuoyu.daqing.example")
    assert b"strict-transport-security" not in asyncio.run(headers_for(settings))
    sent = asyncio.run(headers_for(production))
    assert sent[b"strict-transport-security"] == b"max-age=31536000; includeSubDomains"
    assert b"connect-src 'self' wss://tuoyu.daqing.example" in sent[b"content-security-policy"]


async def test_hsts_on_a_real_production_app(settings, engine):
    production = dataclasses.replace(
        settings,
        env="production",
        public_base_url="https://tuoyu.daqing.example",
        child_data_keys=crypto.ChildDataKeys.new_key_entry(1),
        id_hash_key="a-production-id-hash-key-for-this-test",
    )
    try:
        app = create_app(production, engine=engine)  # installs the production keyring process-wide
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://tuoyu.daqing.example"
        ) as c:
            for path in ("/schema/openapi.json", "/api/no-such-thing"):
                response = await c.get(path)
                assert response.headers["strict-transport-security"].startswith("max-age=31536000")
                assert response.headers["x-content-type-options"] == "nosniff"
    finally:
        crypto.install(crypto.ChildDataKeys.from_settings(settings))  # the suite's own keys again


def test_presigned_s3_images_are_allowed_when_files_live_there(settings):
    s3 = dataclasses.replace(settings, storage_backend="s3", s3_public_endpoint="https://files.daqing.example")
    assert "https://files.daqing.example" in app_policy(s3).split("img-src", 1)[1].split(";", 1)[0]
    assert "files.daqing.example" not in app_policy(settings)


# ------------------------------------------------------------------------------------------------ CORS

ALLOWED = "http://localhost:8000"
FOREIGN = "https://evil.example"


async def test_an_allowed_origin_gets_the_cors_headers(client, settings):
    assert ALLOWED in settings.allowed_origins
    r = await client.get("/api/units", headers={"Origin": ALLOWED})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers["access-control-allow-credentials"] == "true"


async def test_a_foreign_origin_gets_no_cors_headers(client):
    r = await client.get("/api/units", headers={"Origin": FOREIGN})
    # Without Access-Control-Allow-Origin the browser hands the page nothing (Litestar still sends
    # Allow-Credentials, which means nothing on its own).
    assert "access-control-allow-origin" not in r.headers
    assert FOREIGN not in str(r.headers)


async def test_preflight_from_an_allowed_origin(client):
    r = await client.options(
        "/api/bookings",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key, x-csrf-token",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed_headers = r.headers["access-control-allow-headers"].lower()
    assert "idempotency-key" in allowed_headers and "x-csrf-token" in allowed_headers


async def test_preflight_from_a_foreign_origin_is_refused(client):
    r = await client.options(
        "/api/bookings",
        headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"
