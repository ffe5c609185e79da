"""What the complaints domain calls: several photos stored at once (all or none, possibly without an
account), discarded again when the complaint cannot be saved, attached without an owner, and shown
through short-lived presigned URLs."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import uuid

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from backend.core.errors import AppError, RuleViolation
from backend.core.storage import LocalStorage, S3Storage
from backend.files import service
from backend.files.models import Upload
from backend.files.schemas import PresignedOut
from tests.files.conftest import FlakyStorage, stored_files, stored_keys, upload_file, upload_id
from tests.imagedata import PNG, assert_no_metadata, encode, photo_with_gps
from tests.live import free_port

PHOTO = "complaint_photo"
COMPLAINT = "complaint"
MIB = 1024 * 1024


def photos(n: int = 3) -> list:
    kinds = [
        (photo_with_gps(), "a.jpg", "image/jpeg"),
        (PNG, "b.png", "image/png"),
        (encode(Image.new("RGB", (30, 10), "green"), "WEBP"), "c.webp", "image/webp"),
    ]
    return [upload_file(*kinds[i % 3]) for i in range(n)]


async def store(db, settings, storage, files, *, owner_id=None, purpose=PHOTO) -> list[uuid.UUID]:
    return await service.store_uploads(db, settings, storage, owner_id=owner_id, purpose=purpose, files=files)


async def rows(db, ids=None) -> list[Upload]:
    query = select(Upload).where(Upload.purpose == PHOTO)
    if ids is not None:
        query = query.where(Upload.id.in_(ids))
    return list((await db.scalars(query)).all())


async def test_photos_without_an_account_are_stored_clean_and_unattached(db, settings, storage):
    files = photos(3)
    ids = await store(db, settings, storage, files)
    assert len(ids) == 3
    by_id = {row.id: row for row in await rows(db, ids)}
    assert [by_id[i].content_type for i in ids] == ["image/jpeg", "image/png", "image/webp"]
    for row in by_id.values():
        assert (row.owner_id, row.purpose, row.subject_id, row.position) == (None, PHOTO, None, None)
        assert row.storage_key.startswith("complaint_photo/")
        data = await storage.get(row.storage_key)
        assert hashlib.sha256(data).digest() == row.sha256 and len(data) == row.byte_size
        assert_no_metadata(data, markers=row.content_type == "image/jpeg")
    assert (by_id[ids[0]].width, by_id[ids[0]].height) == (20, 40)  # EXIF orientation applied
    assert len(stored_files(storage.root)) == 3
    assert all(f.file.closed for f in files)


async def test_signed_in_reporters_own_their_photos(db, settings, storage, factory):
    reporter = await factory.account()
    [photo] = await store(db, settings, storage, photos(1), owner_id=reporter.id)
    assert (await rows(db, [photo]))[0].owner_id == reporter.id


async def test_photos_are_shrunk_to_4096(db, settings, storage):
    wide = encode(Image.new("RGB", (5000, 1000), "orange"), "PNG")
    [photo] = await store(db, settings, storage, [upload_file(wide, "wide.png", "image/png")])
    row = (await rows(db, [photo]))[0]
    assert (row.width, row.height) == (4096, 819)


async def test_the_size_limit_is_per_purpose(db, settings, storage):
    """10 MiB for complaint photos; notice images keep UPLOAD_MAX_BYTES (8 MiB)."""
    nine_mib = PNG + b"\0" * (9 * MIB)  # a valid PNG followed by padding the decoder ignores
    assert settings.upload_max_bytes < len(nine_mib) < service.max_bytes(PHOTO)
    [photo] = await store(db, settings, storage, [upload_file(nine_mib, "p.png", "image/png")])
    assert (await rows(db, [photo]))[0].byte_size < MIB  # re-encoded: the padding is gone
    with pytest.raises(service.FileTooLarge) as err:
        await store(db, settings, storage, [upload_file(nine_mib, "p.png")], purpose="notice_image")
    assert err.value.extra == {"max_bytes": settings.upload_max_bytes, "file_index": 0}

    too_big = upload_file(PNG + b"\0" * (10 * MIB), "big.png", "image/png")
    files = [*photos(2), too_big, upload_file(b"not even an image")]
    with pytest.raises(service.FileTooLarge) as err:
        await store(db, settings, storage, files)
    # Sizes are checked for every file before any is decoded: the 413 wins over the later 422.
    assert (err.value.status_code, err.value.code) == (413, "file_too_large")
    assert err.value.extra == {"max_bytes": 10 * MIB, "file_index": 2}
    assert err.value.detail_zh == "文件不能超过 10 MB"
    assert all(f.file.closed for f in files)
    assert len(await rows(db)) == 1 and len(stored_files(storage.root)) == 1


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (b"just text", "image_unsupported"),
        (b"", "image_unsupported"),
        (encode(Image.new("RGB", (4, 4)), "GIF"), "image_unsupported"),
        (encode(Image.new("RGB", (90, 90), "red"), "JPEG")[:300], "image_corrupt"),
    ],
    ids=["text", "empty", "gif", "truncated"],
)
async def test_one_bad_file_refuses_them_all(db, settings, storage, bad, code):
    files = [*photos(2), upload_file(bad), *photos(1)]
    with pytest.raises(RuleViolation) as err:
        await store(db, settings, storage, files)
    assert (err.value.status_code, err.value.code) == (422, code)
    assert err.value.extra["file_index"] == 2
    assert await rows(db) == [] and stored_files(storage.root) == []
    assert all(f.file.closed for f in files)


async def test_at_most_six_photos(db, settings, storage):
    files = photos(7)
    with pytest.raises(service.TooManyFiles) as err:
        await store(db, settings, storage, files)
    assert (err.value.status_code, err.value.code, err.value.extra) == (422, "too_many_files", {"max_files": 6})
    assert all(f.file.closed for f in files)
    assert len(await store(db, settings, storage, photos(6))) == 6


async def test_no_photos_store_nothing(db, settings, storage):
    assert await store(db, settings, storage, []) == []


@pytest.mark.parametrize("write_then_fail", [False, True], ids=["nothing written", "written, reply lost"])
async def test_a_failed_write_removes_everything_this_call_stored(db, settings, storage, write_then_fail):
    flaky = FlakyStorage(storage, fail_put_from=3, write_then_fail=write_then_fail)
    with pytest.raises(AppError) as err:
        await store(db, settings, flaky, photos(5))
    assert (err.value.status_code, err.value.code) == (503, "storage_unavailable")
    assert flaky.puts == 3  # stopped at the failure
    assert await rows(db) == [] and stored_files(storage.root) == []


async def test_objects_that_cannot_be_deleted_keep_their_rows_for_the_maintenance_job(db, settings, storage):
    flaky = FlakyStorage(storage, fail_put_from=3, write_then_fail=True, fail_deletes=True)
    with pytest.raises(AppError):
        await store(db, settings, flaky, photos(5))
    files, keys = await stored_keys(db, storage.root)
    assert len(files) == 3 and files <= keys  # never an object without its row
    assert len(keys) == 3  # the two never written are gone at once
    assert all(row.subject_id is None for row in await rows(db))
    assert await service.purge_unattached(db, storage, older_than=dt.timedelta(seconds=-1)) == 3
    assert await rows(db) == [] and stored_files(storage.root) == []


async def test_unreachable_storage_leaves_no_object(db, settings, storage):
    down = S3Storage(endpoint=f"127.0.0.1:{free_port()}", access_key="a", secret_key="b", bucket="x-y", secure=False)
    with pytest.raises(AppError) as err:
        await store(db, settings, down, photos(2))
    assert err.value.status_code == 503
    # The first write's fate is unknown (its delete failed too): its row waits for the maintenance job;
    # the second was never tried and its row is gone.
    assert len(await rows(db)) == 1
    assert await service.purge_unattached(db, storage, older_than=dt.timedelta(seconds=-1)) == 1


# discard_uploads


async def test_discarding_undoes_the_failed_filing_and_deletes_the_photos(db, settings, storage):
    ids = await store(db, settings, storage, photos(3))
    complaint = uuid.uuid4()
    # The complaint's transaction attaches the photos, then fails before its commit:
    await service.attach(db, owner_id=None, upload_ids=ids, purpose=PHOTO, subject_type=COMPLAINT, subject_id=complaint)
    await service.discard_uploads(db, storage, ids)  # rolls that transaction back first
    assert await rows(db) == [] and stored_files(storage.root) == []
    await service.discard_uploads(db, storage, ids)  # idempotent
    await service.discard_uploads(db, storage, [uuid.uuid4()])
    await service.discard_uploads(db, storage, [])


async def test_discarding_leaves_attached_uploads_alone(db, settings, storage):
    kept, dropped = await store(db, settings, storage, photos(2))
    await service.attach(
        db, owner_id=None, upload_ids=[kept], purpose=PHOTO, subject_type=COMPLAINT, subject_id=uuid.uuid4()
    )
    await db.commit()
    await service.discard_uploads(db, storage, [kept, dropped, kept])
    assert [row.id for row in await rows(db)] == [kept]
    assert len(stored_files(storage.root)) == 1


async def test_discarding_with_storage_down_leaves_the_rest_to_the_maintenance_job(db, settings, storage):
    ids = await store(db, settings, storage, photos(2))
    await service.discard_uploads(db, FlakyStorage(storage, fail_deletes=True), ids)  # does not raise
    files, keys = await stored_keys(db, storage.root)
    assert len(files) == 2 and files <= keys
    await service.discard_uploads(db, storage, ids)
    assert await rows(db) == [] and stored_files(storage.root) == []


# attach(owner_id=None)


async def test_ownerless_uploads_are_attached_only_as_ownerless(client, db, settings, storage, factory):
    anonymous = await store(db, settings, storage, photos(2))
    account, headers = await factory.signed_in()
    mine = await store(db, settings, storage, photos(1), owner_id=account.id)
    complaint = uuid.uuid4()

    for owner_id, ids in ((account.id, anonymous[:1]), (None, mine), (None, [await upload_id(client, headers)])):
        with pytest.raises(RuleViolation) as err:
            await service.attach(
                db, owner_id=owner_id, upload_ids=ids, purpose=PHOTO, subject_type=COMPLAINT, subject_id=complaint
            )
        assert err.value.code == "upload_unusable"
    await service.attach(
        db, owner_id=None, upload_ids=anonymous[::-1], purpose=PHOTO, subject_type=COMPLAINT, subject_id=complaint
    )
    await db.commit()
    listed = await service.attachments(db, COMPLAINT, [complaint])
    assert [u.id for u in listed[complaint]] == anonymous[::-1]


# presigned_urls


async def _filed(db, settings, storage, n=2) -> tuple[uuid.UUID, list[uuid.UUID]]:
    ids = await store(db, settings, storage, photos(n))
    complaint = uuid.uuid4()
    await service.attach(
        db, owner_id=None, upload_ids=ids[::-1], purpose=PHOTO, subject_type=COMPLAINT, subject_id=complaint
    )
    await db.commit()
    return complaint, ids[::-1]


async def test_presigned_urls_serve_the_photos_from_the_app(client, db, settings, storage):
    complaint, ordered = await _filed(db, settings, storage)
    before = dt.datetime.now(dt.UTC)
    urls = await service.presigned_urls(db, storage, subject_type=COMPLAINT, subject_id=complaint, expires_s=120)
    assert [u.id for u in urls] == ordered
    assert all(isinstance(u, PresignedOut) for u in urls)
    assert before + dt.timedelta(seconds=118) < urls[0].expires_at <= before + dt.timedelta(seconds=120)
    for out in urls:
        assert out.url.startswith("/api/files/signed/")
        response = await client.get(out.url)  # no sign-in: the URL is the permission
        assert response.status_code == 200
        row = (await rows(db, [out.id]))[0]
        assert response.content == await storage.get(row.storage_key)
        assert response.headers["content-type"] == out.content_type == row.content_type
        assert (out.width, out.height) == (row.width, row.height)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        max_age = int(response.headers["Cache-Control"].removeprefix("private, max-age="))
        assert 110 <= max_age <= 120  # no browser keeps it longer than the URL lives
    assert await service.presigned_urls(db, storage, subject_type=COMPLAINT, subject_id=uuid.uuid4()) == []


def _tampered(url: str) -> list[str]:
    payload, signature = url.removeprefix("/api/files/signed/").split(".")
    flip = "A" if signature[5] != "A" else "B"
    return [
        f"/api/files/signed/{payload}.{signature[:5]}{flip}{signature[6:]}",
        f"/api/files/signed/{payload[:-2]}.{signature}",
        f"/api/files/signed/{payload}",
        "/api/files/signed/..",
        "/api/files/signed/" + "A" * 2000,
        "/api/files/signed/%E5%90%8D.%00",
    ]


async def test_tampered_and_expired_links_are_refused(client, db, settings, storage):
    complaint, _ = await _filed(db, settings, storage, n=1)
    [out] = await service.presigned_urls(db, storage, subject_type=COMPLAINT, subject_id=complaint, expires_s=1)
    for url in _tampered(out.url):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert set(response.json()) == {"status_code", "code", "detail", "detail_zh", "extra"}
    # A link another key signed (another deployment, or a forged one) is unknown here.
    foreign = LocalStorage(storage.root, secret_key="another-secret-" + "y" * 40)
    row = (await rows(db))[0]
    assert (
        await client.get(await foreign.presigned_get(row.storage_key, expires_s=60, content_type="image/png"))
    ).status_code == 404

    await asyncio.sleep(1.1)
    expired = await client.get(out.url)
    assert expired.status_code == 403
    body = expired.json()
    assert (body["code"], body["detail_zh"]) == ("link_expired", "链接已过期，请刷新后重试")


async def test_a_link_to_a_deleted_photo_is_not_found(client, db, settings, storage):
    complaint, _ = await _filed(db, settings, storage, n=1)
    [out] = await service.presigned_urls(db, storage, subject_type=COMPLAINT, subject_id=complaint)
    await storage.delete((await rows(db))[0].storage_key)
    response = await client.get(out.url)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


async def test_app_links_are_refused_when_files_live_in_s3(client, db, settings, storage, s3_storage, use_storage):
    complaint, _ = await _filed(db, settings, storage, n=1)
    [out] = await service.presigned_urls(db, storage, subject_type=COMPLAINT, subject_id=complaint)
    use_storage(s3_storage)
    assert (await client.get(out.url)).status_code == 404


async def test_presigned_urls_point_at_the_s3_server(db, settings, s3_storage):
    ids = await store(db, settings, s3_storage, photos(2))
    complaint = uuid.uuid4()
    await service.attach(db, owner_id=None, upload_ids=ids, purpose=PHOTO, subject_type=COMPLAINT, subject_id=complaint)
    await db.commit()
    urls = await service.presigned_urls(db, s3_storage, subject_type=COMPLAINT, subject_id=complaint)
    async with httpx.AsyncClient() as http:
        for out, upload in zip(urls, ids, strict=True):
            assert out.id == upload
            key = (await rows(db, [upload]))[0].storage_key
            assert out.url.startswith(f"http://{s3_storage.endpoint}/{s3_storage.bucket}/{key}?")
            response = await http.get(out.url)
            assert response.status_code == 200
            assert response.content == await s3_storage.get(key)
            assert response.headers["content-type"] == out.content_type
            assert Image.open(io.BytesIO(response.content)).size == (out.width, out.height)
            other_key = key[:-1] + ("1" if key.endswith("0") else "0")  # always a different object key
            assert (await http.get(out.url.replace(key, other_key))).status_code == 403  # signature covers it


def test_the_complaint_filing_body_limit(settings):
    assert service.max_bytes(PHOTO) == 10 * MIB
    assert service.COMPLAINT_FILING_MAX_BODY == service.multipart_limit(PHOTO, 6) == 6 * 10 * MIB + MIB
    assert service.multipart_limit(PHOTO, 2) == 21 * MIB
    with pytest.raises(ValueError, match="UPLOAD_MAX_BYTES"):
        service.multipart_limit("notice_image", 9)
    assert service.multipart_limit("notice_image", 9, settings=settings) == 9 * settings.upload_max_bytes + MIB
