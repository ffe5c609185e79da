"""Both storage backends keep one contract: LocalStorage on a temporary directory and S3Storage on a
real S3 server (``rclone serve s3``, tests/s3server.py) run the same tests."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.config import ConfigError, Settings
from backend.core.errors import NotFound
from backend.core.storage import (
    InvalidKey,
    LinkExpired,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageUnavailable,
    storage_from_settings,
)
from tests.conftest import make_settings
from tests.live import free_port
from tests.s3server import ACCESS_KEY, SECRET_KEY

KEY = "notice_image/ab/ab0123456789abcdef0123456789abcd"
EVERY_BYTE = bytes(range(256)) * 40


def _calls(storage: Storage, key: str) -> list[Callable[[], Awaitable[object]]]:
    return [
        lambda: storage.put(key, b"x", "image/png"),
        lambda: storage.get(key),
        lambda: storage.delete(key),
        lambda: storage.exists(key),
    ]


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    return request.getfixturevalue("s3_storage")


async def test_put_then_get_returns_the_same_bytes(storage):
    assert not await storage.exists(KEY)
    await storage.put(KEY, EVERY_BYTE, "image/jpeg")
    assert await storage.exists(KEY)
    assert await storage.get(KEY) == EVERY_BYTE


async def test_put_replaces_an_object(storage):
    await storage.put(KEY, b"first", "image/png")
    await storage.put(KEY, b"second, longer", "image/png")
    assert await storage.get(KEY) == b"second, longer"


async def test_empty_objects_are_objects(storage):
    await storage.put("a/empty", b"", "application/octet-stream")
    assert await storage.exists("a/empty")
    assert await storage.get("a/empty") == b""


async def test_get_of_a_missing_key_raises_not_found(storage):
    with pytest.raises(ObjectNotFound) as err:
        await storage.get(KEY)
    assert err.value.status_code == 404
    assert err.value.code == "object_not_found"
    assert not await storage.exists(KEY)


async def test_delete_is_idempotent(storage):
    await storage.delete(KEY)  # nothing there: fine
    await storage.put(KEY, b"x", "image/webp")
    await storage.delete(KEY)
    assert not await storage.exists(KEY)
    with pytest.raises(ObjectNotFound):
        await storage.get(KEY)
    await storage.delete(KEY)


async def test_keys_are_independent(storage):
    await storage.put("p/aa/one", b"1", "image/png")
    await storage.put("p/aa/one-more", b"2", "image/png")
    await storage.put("p/ab/one", b"3", "image/png")
    await storage.delete("p/aa/one")
    assert [await storage.exists(k) for k in ("p/aa/one", "p/aa/one-more", "p/ab/one")] == [False, True, True]
    assert await storage.get("p/ab/one") == b"3"


async def test_concurrent_use(storage):
    keys = [f"c/{n:02d}/{n:032x}" for n in range(20)]
    await asyncio.gather(*(storage.put(k, k.encode() * 100, "image/jpeg") for k in keys))
    assert await asyncio.gather(*(storage.get(k) for k in keys)) == [k.encode() * 100 for k in keys]
    await asyncio.gather(*(storage.delete(k) for k in keys))
    assert not any(await asyncio.gather(*(storage.exists(k) for k in keys)))


BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "a/./b",
    "a//b",
    "a/b/",
    ".hidden",
    "a/.tmp-x",
    "a\\b",
    "a b",
    "a/b\x00c",
    "名字.jpg",
    "x" * 101,
    "/".join(["a"] * 9),
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_that_could_escape_or_mean_anything_are_refused(storage, key):
    for call in _calls(storage, key):
        with pytest.raises(InvalidKey):
            await call()


# LocalStorage


async def test_local_writes_are_private_files_and_leave_no_temporary_files(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    await storage.put(KEY, b"data", "image/jpeg")
    path = tmp_path / "uploads" / KEY
    assert path.read_bytes() == b"data"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == [path.name]


async def test_a_failed_local_write_keeps_the_old_object_and_no_debris(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    await storage.put(KEY, b"old", "image/jpeg")
    with pytest.raises(TypeError):
        await storage.put(KEY, object(), "image/jpeg")  # type: ignore[arg-type]  # fails mid-write
    assert await storage.get(KEY) == b"old"
    assert os.listdir((tmp_path / "uploads" / KEY).parent) == [KEY.rsplit("/", 1)[1]]


async def test_local_storage_does_not_follow_symlinks_out_of_its_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "uploads"
    root.mkdir()
    (root / "link").symlink_to(outside)
    storage = LocalStorage(root)
    with pytest.raises(InvalidKey):
        await storage.get("link/secret")
    with pytest.raises(InvalidKey):
        await storage.put("link/new", b"x", "image/png")
    assert sorted(os.listdir(outside)) == ["secret"]


async def test_an_unusable_local_directory_is_unavailable_storage(tmp_path):
    (tmp_path / "uploads").write_bytes(b"a file where the directory should be")
    storage = LocalStorage(tmp_path / "uploads")
    with pytest.raises(StorageUnavailable) as err:
        await storage.put(KEY, b"x", "image/png")
    assert err.value.status_code == 503
    assert err.value.code == "storage_unavailable"


# S3Storage


async def test_s3_objects_live_in_the_server(s3_server, s3_storage):
    await s3_storage.put(KEY, b"on the server", "image/png")
    assert s3_server.objects(s3_storage.bucket) == [KEY]
    assert (s3_server.data_dir / s3_storage.bucket / KEY).read_bytes() == b"on the server"


async def test_s3_creates_a_missing_bucket_on_first_write(s3_server):
    storage = s3_server.storage("created-on-first-write")
    await storage.put(KEY, b"x", "image/jpeg")
    assert await storage.get(KEY) == b"x"


async def test_s3_with_wrong_credentials_is_unavailable(s3_server, s3_storage):
    wrong = S3Storage(
        endpoint=s3_server.endpoint,
        access_key=ACCESS_KEY,
        secret_key="not-the-secret",
        bucket=s3_storage.bucket,
        secure=False,
    )
    for call in _calls(wrong, KEY):
        with pytest.raises(StorageUnavailable):
            await call()
    assert s3_server.objects(s3_storage.bucket) == []


async def test_unreachable_s3_is_unavailable_quickly():
    storage = S3Storage(
        endpoint=f"127.0.0.1:{free_port()}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket="daqing-uploads",
        secure=False,
    )
    started = time.monotonic()
    for call in _calls(storage, KEY):
        with pytest.raises(StorageUnavailable) as err:
            await call()
        assert err.value.headers == {"Retry-After": "5"}
    assert time.monotonic() - started < 10


def test_storage_from_settings(tmp_path):
    local = storage_from_settings(make_settings(var_dir=tmp_path))
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "uploads").resolve()
    s3 = storage_from_settings(
        make_settings(
            storage_backend="s3",
            s3_endpoint="minio.internal:9000",
            s3_access_key="app",
            s3_secret_key="secret-secret",
            s3_bucket="daqing",
            s3_secure=False,
        )
    )
    assert isinstance(s3, S3Storage)
    assert s3.bucket == "daqing"
    assert "secret-secret" not in repr(s3)
    assert "secret-secret" not in repr(
        Settings(storage_backend="s3", s3_endpoint="h:1", s3_access_key="a", s3_secret_key="secret-secret")
    )
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        storage_from_settings(make_settings(storage_backend="s3", s3_endpoint="h:1", s3_bucket="No_Such"))


async def test_large_objects_round_trip(storage):
    """Above 5 MiB the S3 SDK switches to a multipart upload."""
    data = os.urandom(7 * 1024 * 1024 + 13)
    await storage.put(KEY, data, "image/png")
    assert await storage.get(KEY) == data


# Presigned URLs


@pytest.mark.parametrize(
    ("key", "expires_s", "content_type", "error"),
    [
        ("../x", 60, "image/png", InvalidKey),
        (KEY, 0, "image/png", ValueError),
        (KEY, 7 * 24 * 3600 + 1, "image/png", ValueError),
        (KEY, 1.5, "image/png", ValueError),
        (KEY, 60, "text/html\r\nSet-Cookie: x=1", ValueError),
        (KEY, 60, "", ValueError),
    ],
)
async def test_presigning_refuses_what_the_app_should_never_ask(storage, key, expires_s, content_type, error):
    with pytest.raises(error):
        await storage.presigned_get(key, expires_s=expires_s, content_type=content_type)


async def test_s3_presigned_urls_serve_the_object_until_they_expire(s3_server, s3_storage):
    await s3_storage.put(KEY, EVERY_BYTE, "image/png")
    url = await s3_storage.presigned_get(KEY, expires_s=300, content_type="image/webp")
    assert url.startswith(f"http://{s3_server.endpoint}/{s3_storage.bucket}/{KEY}?")
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        assert response.status_code == 200
        assert response.content == EVERY_BYTE
        assert response.headers["content-type"] == "image/webp"  # as asked, whatever was stored
        assert response.headers["content-disposition"] == "inline"
        assert response.headers["cache-control"] == "private, max-age=300"
        unsigned = await http.get(f"http://{s3_server.endpoint}/{s3_storage.bucket}/{KEY}")
        assert unsigned.status_code in (400, 403) and unsigned.content != EVERY_BYTE  # the bucket is private
        signature = url.rsplit("=", 1)[1]
        forged = url[: -len(signature)] + ("0" if signature[0] != "0" else "1") + signature[1:]
        assert (await http.get(forged)).status_code == 403
        assert (await http.get(url.replace("max-age%3D300", "max-age%3D99999"))).status_code == 403
        short = await s3_storage.presigned_get(KEY, expires_s=1, content_type="image/png")
        assert (await http.get(short)).status_code == 200
        await asyncio.sleep(2.1)  # S3 signatures count whole seconds
        assert (await http.get(short)).status_code in (400, 403)  # rclone: 400 AccessDenied; MinIO: 403


async def test_s3_presigned_urls_can_name_the_public_host(s3_server, s3_storage):
    """Signed for S3_PUBLIC_ENDPOINT: the host is part of the signature, so the URL works there only."""
    port = s3_server.endpoint.rsplit(":", 1)[1]
    public = S3Storage(
        endpoint=s3_server.endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket=s3_storage.bucket,
        secure=False,
        public_endpoint=f"http://localhost:{port}",
    )
    await public.put(KEY, b"via the public name", "image/jpeg")  # the app still talks to S3_ENDPOINT
    url = await public.presigned_get(KEY, expires_s=60, content_type="image/jpeg")
    assert url.startswith(f"http://localhost:{port}/{s3_storage.bucket}/{KEY}?")
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == b"via the public name"
        assert (await http.get(url.replace("localhost", "127.0.0.1", 1))).status_code == 403
    tls = S3Storage(
        endpoint=s3_server.endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket=s3_storage.bucket,
        secure=False,
        public_endpoint="https://files.daqing.example",
    )
    assert (await tls.presigned_get(KEY, expires_s=60, content_type="image/png")).startswith(
        f"https://files.daqing.example/{s3_storage.bucket}/{KEY}?"
    )
    with pytest.raises(ConfigError, match="S3_PUBLIC_ENDPOINT"):
        S3Storage(endpoint="h:1", access_key="a", secret_key="b", bucket="bucket", public_endpoint="ftp://x/y")


async def test_presigning_never_contacts_the_s3_server():
    unreachable = S3Storage(
        endpoint=f"127.0.0.1:{free_port()}", access_key=ACCESS_KEY, secret_key=SECRET_KEY, bucket="b-c", secure=False
    )
    started = time.monotonic()
    url = await unreachable.presigned_get(KEY, expires_s=60, content_type="image/png")
    assert url.startswith(f"http://{unreachable.endpoint}/b-c/{KEY}?") and time.monotonic() - started < 1


async def test_local_presigned_urls_are_app_urls_signed_with_the_secret(tmp_path):
    storage = LocalStorage(tmp_path, secret_key="k" * 40, base_url="https://tuoyu.daqing.example/")
    url = await storage.presigned_get(KEY, expires_s=60, content_type="image/jpeg")
    prefix = "https://tuoyu.daqing.example/api/files/signed/"
    assert url.startswith(prefix)
    token = url.removeprefix(prefix)
    signed = storage.open_signed(token)
    assert (signed.key, signed.content_type) == (KEY, "image/jpeg")
    assert 58 <= signed.seconds_left() <= 60
    # Another process with the same SECRET_KEY accepts it; one with another key does not.
    assert LocalStorage(tmp_path, secret_key="k" * 40).open_signed(token) == signed
    with pytest.raises(NotFound):
        LocalStorage(tmp_path, secret_key="j" * 40).open_signed(token)
    with pytest.raises(LinkExpired) as err:
        storage.open_signed(token, now=signed.expires_at)
    assert (err.value.status_code, err.value.code) == (403, "link_expired")
    # Without a key an instance signs with a random one of its own.
    assert (await LocalStorage(tmp_path).presigned_get(KEY, expires_s=5, content_type="image/png")).startswith(
        "/api/files/signed/"
    )


@given(st.text(max_size=300) | st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode()))
@settings(max_examples=300, deadline=None)
def test_no_token_but_a_signed_one_opens_anything(token):
    storage = LocalStorage(Path("/nonexistent"), secret_key="k" * 40)
    for candidate in (token, token + "." + token, token.replace("=", "") + ".x"):
        with pytest.raises(NotFound):
            storage.open_signed(candidate)


async def test_storage_from_settings_signs_as_configured(tmp_path):
    configured = make_settings(var_dir=tmp_path, public_base_url="https://tuoyu.daqing.example")
    local = storage_from_settings(configured)
    assert isinstance(local, LocalStorage)
    url = await local.presigned_get(KEY, expires_s=60, content_type="image/png")
    assert url.startswith("https://tuoyu.daqing.example/api/files/signed/")
    other_process = storage_from_settings(configured)  # same SECRET_KEY: accepts the first one's links
    assert other_process.open_signed(url.rsplit("/", 1)[1]).key == KEY  # type: ignore[attr-defined]
    s3 = storage_from_settings(
        make_settings(
            storage_backend="s3",
            s3_endpoint="minio.internal:9000",
            s3_access_key="app",
            s3_secret_key="secret-secret",
            s3_secure=False,
            s3_public_endpoint="https://files.daqing.example",
        )
    )
    assert (await s3.presigned_get(KEY, expires_s=60, content_type="image/png")).startswith(
        f"https://files.daqing.example/daqing-uploads/{KEY}?"
    )
