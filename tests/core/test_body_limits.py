"""Request body limits everywhere: a walk over the route table posts an oversized body to every route
that takes one (JSON, form or multipart) and expects 413 with the JSON error, and nothing written —
measured by PostgreSQL itself (``pg_stat_xact_user_tables`` counts every row inserted, updated or
deleted in the test's transaction, subtransactions included). Routes that take files have their own,
larger limits: a body just over MAX_BODY_BYTES passes their limit (and fails later, as a bad form),
one over their own is refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute
from sqlalchemy import text

from backend.core.authz import Role
from backend.files.routes import MULTIPART_OVERHEAD
from backend.files.service import COMPLAINT_FILING_MAX_BODY
from backend.imports.tables import MAX_BYTES as IMPORT_MAX_BYTES

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# The registers' uploads (backend/imports): spreadsheets of up to 20 MB.
IMPORT_UPLOADS = ("/api/imports/institutions", "/api/imports/rooms", "/api/imports/population")
_PARAM = re.compile(r"\{(\w+):(\w+)\}")
CONTENT_TYPES = {
    RequestEncodingType.JSON: "application/json",
    RequestEncodingType.URL_ENCODED: "application/x-www-form-urlencoded",
    RequestEncodingType.MULTI_PART: "multipart/form-data; boundary=dqboundary",
}


def body_routes(app: Any) -> list[tuple[str, str, str, int]]:
    """(method, path template, content type, the route's body limit) for every route with a body."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
            for method in sorted(handler.http_methods & WRITES):
                found.append((method, route.path, CONTENT_TYPES[media_type], handler.resolve_request_max_body_size()))
    return found


def concrete(path: str) -> str:
    return _PARAM.sub(lambda m: str(uuid.uuid4()) if m.group(2) == "uuid" else "x", path)


async def written(db) -> int:
    """Rows inserted, updated or deleted so far in this test's transaction (all tables)."""
    return int(
        await db.scalar(
            text("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        )
    )


@pytest.fixture
async def every_role(factory, db):
    """One account holding every role, so that no route's guard refuses it before the body is read
    (the body is read after authorization: an anonymous caller is refused without reading it)."""
    from backend.accounts.models import RoleGrant

    inst = await factory.institution()
    account, headers = await factory.signed_in(Role.CITY_ADMIN)
    for role, scope in (
        (Role.PARENT, {}),
        (Role.INSTITUTION_ADMIN, {"institution_id": inst.id}),
        (Role.INSTITUTION_STAFF, {"institution_id": inst.id}),
        (Role.OFFICER, {"department_code": "health"}),
    ):
        db.add(RoleGrant(account_id=account.id, role=role, **scope))
    await db.commit()
    return headers


def test_the_walk_finds_the_routes_that_take_bodies(app, settings):
    routes = body_routes(app)
    assert len(routes) > 50
    limits = {(m, p): limit for m, p, _, limit in routes}
    assert limits[("POST", "/api/auth/login")] == settings.max_body_bytes
    assert limits[("POST", "/api/complaints")] == COMPLAINT_FILING_MAX_BODY
    assert limits[("POST", "/api/uploads")] > settings.max_body_bytes
    assert limits[("POST", "/open311/v2/requests.json")] == settings.max_body_bytes
    for path in IMPORT_UPLOADS:  # a register of up to 20 MB
        assert limits[("POST", path)] == IMPORT_MAX_BYTES + MULTIPART_OVERHEAD
    # Every route without its own larger limit keeps MAX_BODY_BYTES; only file routes go above it.
    larger = sorted(p for (_m, p), limit in limits.items() if limit != settings.max_body_bytes)
    assert all(p.startswith(("/api/uploads", "/api/complaints")) or p in IMPORT_UPLOADS for p in larger), larger


async def test_every_route_refuses_an_oversized_body_with_413_and_writes_nothing(client, db, app, every_role):
    assert await written(db) > 0  # the measure sees this transaction's writes (the fixture's rows)
    refused = []
    for method, path, content_type, limit in body_routes(app):
        before = await written(db)
        response = await client.request(
            method,
            concrete(path),
            content=b"{" + b" " * limit,  # one byte over: Content-Length says so before a byte is read
            headers={**every_role, "Content-Type": content_type},
        )
        assert response.status_code == 413, (method, path, response.status_code, response.text[:300])
        body = response.json()
        if path.startswith("/open311/"):  # Open311 answers errors in the spec's own JSON shape
            assert body[0]["code"] == 413 and "body_too_large" in body[0]["description"], body
        else:
            assert body["status_code"] == 413 and body["code"] and body["detail"] and body["detail_zh"], body
        assert response.headers["content-type"].startswith("application/json")
        assert await written(db) == before, (method, path)
        refused.append(path)
    assert len(refused) == len(body_routes(app))


async def test_a_streamed_body_without_content_length_is_cut_off_too(client, db, app, every_role):
    """Chunked, no Content-Length: refused as soon as the bytes received pass the route's limit."""

    async def chunks(total: int) -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            chunk = b" " * min(256 * 1024, total - sent)
            sent += len(chunk)
            yield chunk

    for method, path, content_type, limit in body_routes(app):
        before = await written(db)
        response = await client.request(
            method,
            concrete(path),
            content=chunks(limit + 1),
            headers={**every_role, "Content-Type": content_type},
        )
        assert response.status_code == 413, (method, path, response.status_code, response.text[:300])
        assert await written(db) == before, (method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/api/uploads?purpose=notice_image",
        "/api/uploads/documents",
        "/api/complaints",
        *(f"{path}?crs=wgs84" for path in IMPORT_UPLOADS),
    ],
)
async def test_file_routes_have_their_own_larger_limits(client, db, settings, every_role, path):
    """A body over MAX_BODY_BYTES but under the route's own limit is read (and refused as a bad form,
    not as too large); nothing is written either way."""
    before = await written(db)
    response = await client.post(
        path,
        content=b"--dqboundary\r\n" + b"x" * (settings.max_body_bytes + 10),
        headers={**every_role, "Content-Type": "multipart/form-data; boundary=dqboundary"},
    )
    assert response.status_code != 413, response.text[:300]
    assert 400 <= response.status_code < 500, response.text[:300]
    assert await written(db) == before
