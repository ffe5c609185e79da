"""POST /api/uploads: a cleaned image stored under a random key, or a clear 4xx with nothing written."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from backend.core.authz import Role
from backend.core.storage import S3Storage
from backend.files import service
from backend.files.models import Upload
from backend.files.schemas import UploadOut
from tests.files.conftest import FlakyStorage, rows_of, stored_files, upload
from tests.imagedata import PNG, bomb_png, encode, photo_with_gps
from tests.live import free_port
from tests.strict import strict


async def test_a_photo_is_stored_upright_without_its_gps_position(client, factory, db, storage):
    parent, headers = await factory.signed_in(Role.PARENT)
    response = await upload(client, headers, photo_with_gps(), filename="张小明-家里.jpg", content_type="image/jpeg")
    assert response.status_code == 201, response.text
    out = strict(response.content, UploadOut)
    assert (out.content_type, out.width, out.height) == ("image/jpeg", 20, 40)

    row = await db.scalar(select(Upload).where(Upload.id == out.id))
    assert row is not None
    assert (row.owner_id, row.purpose, row.subject_id, row.position) == (parent.id, "notice_image", None, None)
    stored = await storage.get(row.storage_key)
    assert (len(stored), hashlib.sha256(stored).digest()) == (row.byte_size, row.sha256) == (out.byte_size, row.sha256)
    assert "张" not in row.storage_key and "jpg" not in row.storage_key and str(parent.id) not in row.storage_key
    image = Image.open(io.BytesIO(stored))
    assert image.size == (20, 40)
    assert len(image.getexif()) == 0 and "exif" not in image.info
    assert b"Exif" not in stored and b"GPS" not in stored
    assert stored_files(storage.root) == [storage.root / row.storage_key]


@pytest.mark.parametrize("role", [Role.INSTITUTION_STAFF, Role.OFFICER, Role.CITY_ADMIN])
async def test_every_signed_in_role_may_upload(client, factory, storage, role):
    scope = {
        Role.INSTITUTION_STAFF: {"institution_id": (await factory.institution()).id},
        Role.OFFICER: {"department": "health"},
        Role.CITY_ADMIN: {},
    }[role]
    _, headers = await factory.signed_in(role, **scope)
    response = await upload(client, headers, encode(Image.new("RGB", (5, 5)), "WEBP"), content_type="image/webp")
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/webp"


async def test_the_declared_type_and_name_are_ignored(client, factory, storage):
    _, headers = await factory.signed_in()
    response = await upload(client, headers, PNG, filename="../../etc/passwd.gif", content_type="image/gif")
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"


async def test_files_above_the_app_wide_body_limit_are_accepted(client, factory, storage, settings):
    _, headers = await factory.signed_in()
    big = encode(Image.effect_noise((1000, 800), 100).convert("RGB"), "PNG", compress_level=0)
    assert settings.max_body_bytes < len(big) < settings.upload_max_bytes
    response = await upload(client, headers, big)
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (1000, 800)


async def test_anonymous_uploads_are_refused(client, db, storage):
    response = await upload(client, {}, PNG)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert stored_files(storage.root) == []


def _multipart(fields: list[tuple[str, str | None, bytes]], boundary: str = "dqboundary") -> bytes:
    parts = []
    for name, filename, content in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


MULTIPART = {"Content-Type": "multipart/form-data; boundary=dqboundary"}
BOMB = bomb_png(100_000, 100_000)  # 10 gigapixels claimed by a file of a few dozen bytes


def _jpeg() -> bytes:
    return encode(Image.effect_noise((120, 120), 60).convert("RGB"), "JPEG")


BAD_INPUTS = {
    # name: (request keyword arguments, expected status, expected code)
    "text file named .jpg": (
        {"files": {"file": ("photo.jpg", b"just some text, honestly\n" * 20, "image/jpeg")}},
        422,
        "image_unsupported",
    ),
    "empty file": ({"files": {"file": ("photo.jpg", b"", "image/jpeg")}}, 422, "image_unsupported"),
    "gif": (
        {"files": {"file": ("a.gif", encode(Image.new("RGB", (4, 4)), "GIF"), "image/gif")}},
        422,
        "image_unsupported",
    ),
    "decompression bomb": ({"files": {"file": ("bomb.png", BOMB, "image/png")}}, 422, "image_too_many_pixels"),
    "truncated jpeg": ({"files": {"file": ("cut.jpg", _jpeg()[:900], "image/jpeg")}}, 422, "image_corrupt"),
    "animated webp": (
        {
            "files": {
                "file": (
                    "a.webp",
                    encode(
                        Image.new("RGB", (8, 8)), "WEBP", save_all=True, append_images=[Image.new("RGB", (8, 8), "red")]
                    ),
                    "image/webp",
                )
            }
        },
        422,
        "image_animated",
    ),
    "wrong purpose": (
        {"files": {"file": ("a.png", PNG, "image/png")}, "params": {"purpose": "complaint_photo"}},
        400,
        "validation_error",
    ),
    "no purpose": ({"files": {"file": ("a.png", PNG, "image/png")}, "params": {}}, 400, "validation_error"),
    "file under another name": ({"files": {"photo": ("a.png", PNG, "image/png")}}, 400, "validation_error"),
    "file as a text field": ({"data": {"file": "not a file"}, "files": {"x": ("a", b"a", "text/plain")}}, 400, None),
    "two files": (
        {"content": _multipart([("file", "a.png", PNG), ("file", "b.png", PNG)]), "headers": MULTIPART},
        400,
        "validation_error",
    ),
    "empty multipart body": ({"content": b"", "headers": MULTIPART}, 400, "validation_error"),
    "broken multipart body": ({"content": b"--dqboundary\r\nnonsense", "headers": MULTIPART}, 400, None),
    "multipart without a boundary": (
        {"content": _multipart([("file", "a.png", PNG)]), "headers": {"Content-Type": "multipart/form-data"}},
        400,
        "bad_multipart",
    ),
    "json instead of multipart": ({"json": {"file": "iVBORw0KGgo="}}, 415, "unsupported_media_type"),
    "no body at all": ({}, 415, "unsupported_media_type"),
    "file above UPLOAD_MAX_BYTES": (
        {"files": {"file": ("big.png", PNG + b"\0" * (8 * 1024 * 1024), "image/png")}},
        413,
        "file_too_large",
    ),
    "body far above UPLOAD_MAX_BYTES": (
        {"files": {"file": ("huge.png", b"\0" * (9 * 1024 * 1024), "image/png")}},
        413,
        "body_too_large",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
async def test_bad_input_is_a_clear_4xx_and_writes_nothing(client, factory, db, storage, case):
    owner, headers = await factory.signed_in()
    kwargs, status, code = BAD_INPUTS[case]
    params = kwargs.pop("params", {"purpose": "notice_image"}) if "params" in kwargs else {"purpose": "notice_image"}
    kwargs = dict(kwargs)
    kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
    response = await client.post("/api/uploads", params=params, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "code", "detail", "detail_zh", "extra"}
    assert body["status_code"] == status and body["detail"] and body["detail_zh"]
    if code is not None:
        assert body["code"] == code
    assert await rows_of(db, owner.id) == 0
    assert stored_files(storage.root) == []


async def test_uploads_are_rate_limited_per_account(client, factory, db, storage, settings):
    _, headers = await factory.signed_in()
    _, other_headers = await factory.signed_in()
    statuses = [
        (await upload(client, headers, b"not an image")).status_code for _ in range(settings.upload_max_per_hour)
    ]
    assert set(statuses) == {422}  # refused attempts count too
    limited = await upload(client, headers, PNG)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
    assert (await upload(client, other_headers, PNG)).status_code == 201  # per account
    assert len(stored_files(storage.root)) == 1


async def test_unavailable_storage_answers_503_and_leaves_no_object(client, factory, db, storage, use_storage):
    owner, headers = await factory.signed_in()
    use_storage(
        S3Storage(
            endpoint=f"127.0.0.1:{free_port()}",
            access_key="nobody",
            secret_key="nothing-at-all",
            bucket="daqing-uploads",
            secure=False,
        )
    )
    response = await upload(client, headers, PNG)
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert response.json()["detail_zh"] == "文件存储暂时不可用，请稍后重试"
    assert response.headers["Retry-After"] == "5"
    # Storage could not confirm that no object exists (the write may land although no reply came):
    # the row stays, unattached, and the maintenance job deletes object and row once storage is back.
    row = await db.scalar(select(Upload).where(Upload.owner_id == owner.id))
    assert row is not None and row.subject_id is None
    # (now() is the test transaction's start, when the row was made: "older than a second from now")
    assert await service.purge_unattached(db, storage, older_than=dt.timedelta(seconds=-1)) == 1
    assert await rows_of(db, owner.id) == 0


@pytest.mark.parametrize("write_then_fail", [False, True], ids=["nothing written", "written, reply lost"])
async def test_a_failed_write_deletes_object_and_row(client, factory, db, storage, use_storage, write_then_fail):
    owner, headers = await factory.signed_in()
    use_storage(FlakyStorage(storage, fail_put_from=1, write_then_fail=write_then_fail))
    response = await upload(client, headers, PNG)
    assert response.status_code == 503
    assert await rows_of(db, owner.id) == 0
    assert stored_files(storage.root) == []


async def test_oversized_bodies_are_refused_before_they_are_read(client, factory, db, storage, settings):
    """Litestar checks the route's own limit (UPLOAD_MAX_BYTES + 64 KiB) against Content-Length
    before reading a byte, and against the bytes streamed so far when there is no Content-Length."""
    owner, headers = await factory.signed_in()
    mib = 1024 * 1024
    pulled = 0

    async def body():
        nonlocal pulled
        for _ in range(64):
            pulled += 1
            yield b"\0" * mib

    multipart = {**headers, "Content-Type": "multipart/form-data; boundary=dqboundary"}
    announced = await client.post(
        "/api/uploads",
        params={"purpose": "notice_image"},
        content=body(),
        headers={**multipart, "Content-Length": str(64 * mib)},
    )
    assert announced.status_code == 413, announced.text
    assert announced.json()["code"] == "body_too_large"
    assert pulled == 0
    streamed = await client.post("/api/uploads", params={"purpose": "notice_image"}, content=body(), headers=multipart)
    assert streamed.status_code == 413
    assert pulled <= settings.upload_max_bytes // mib + 2  # stopped once past the limit, not at 64 MiB
    assert await rows_of(db, owner.id) == 0


async def test_uploads_reach_an_s3_server(client, factory, db, s3_server, s3_storage, use_storage):
    use_storage(s3_storage)
    _, headers = await factory.signed_in()
    response = await upload(client, headers, photo_with_gps(), content_type="image/jpeg")
    assert response.status_code == 201, response.text
    key = await db.scalar(select(Upload.storage_key).where(Upload.id == uuid.UUID(response.json()["id"])))
    assert s3_server.objects(s3_storage.bucket) == [key]
    stored = await s3_storage.get(key)
    assert Image.open(io.BytesIO(stored)).size == (20, 40) and b"GPS" not in stored


def test_the_upload_route_is_documented(app):
    document = app.openapi_schema.to_schema()
    operation = document["paths"]["/api/uploads"]["post"]
    assert operation["summary"] == "Upload an image / 上传图片"
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"201", "400", "401", "413", "415", "422", "429", "503"} <= set(operation["responses"])
    purpose = next(p for p in operation["parameters"] if p["name"] == "purpose")
    assert purpose["required"] is True
