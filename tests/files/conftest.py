from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.datastructures import UploadFile
from sqlalchemy import func, select

from backend.core.storage import LocalStorage, Storage, StorageUnavailable
from backend.files.models import Upload
from tests.imagedata import PNG


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def storage(app: Any, tmp_path: Path) -> Iterator[LocalStorage]:
    """The app's storage for this test: a LocalStorage on an empty temporary directory."""
    local = LocalStorage(tmp_path / "uploads")
    original = app.state["storage"]
    app.state["storage"] = local
    try:
        yield local
    finally:
        app.state["storage"] = original


@pytest.fixture
def use_storage(app: Any) -> Iterator[Any]:
    """Point the app at another storage for this test (restored afterwards)."""
    original = app.state["storage"]

    def use(storage: Storage) -> Storage:
        app.state["storage"] = storage
        return storage

    yield use
    app.state["storage"] = original


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes = PNG,
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
    purpose: str = "notice_image",
) -> httpx.Response:
    return await client.post(
        "/api/uploads", params={"purpose": purpose}, files={"file": (filename, data, content_type)}, headers=headers
    )


async def upload_id(client: httpx.AsyncClient, headers: dict[str, str], data: bytes = PNG) -> uuid.UUID:
    response = await upload(client, headers, data)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def rows_of(db: Any, owner_id: uuid.UUID) -> int:
    return int(await db.scalar(select(func.count()).select_from(Upload).where(Upload.owner_id == owner_id)) or 0)


def upload_file(data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg") -> UploadFile:
    """A file as Litestar hands it to a handler from a multipart body (spooled to disk above 1 MiB)."""
    return UploadFile(content_type=content_type, filename=filename, file_data=data)


class FlakyStorage(Storage):
    """Another storage that fails on demand: from the ``fail_put_from``-th write on (1-based; the
    write may land first, as when a reply is lost), and every delete if ``fail_deletes``."""

    name = "flaky"

    def __init__(
        self,
        inner: LocalStorage,
        *,
        fail_put_from: int | None = None,
        write_then_fail: bool = False,
        fail_deletes: bool = False,
    ) -> None:
        self.inner, self.fail_put_from, self.write_then_fail = inner, fail_put_from, write_then_fail
        self.fail_deletes = fail_deletes
        self.puts = 0

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts += 1
        if self.fail_put_from is not None and self.puts >= self.fail_put_from:
            if self.write_then_fail:
                await self.inner.put(key, data, content_type)
            raise StorageUnavailable()
        await self.inner.put(key, data, content_type)

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    async def delete(self, key: str) -> None:
        if self.fail_deletes:
            raise StorageUnavailable()
        await self.inner.delete(key)

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def presigned_get(self, key: str, *, expires_s: int, content_type: str) -> str:
        return await self.inner.presigned_get(key, expires_s=expires_s, content_type=content_type)


async def stored_keys(db: Any, root: Path) -> tuple[set[str], set[str]]:
    """(keys of the files under ``root``, keys of all upload rows): the first must lie in the second."""
    files = {str(p.relative_to(root)) for p in stored_files(root)}
    rows = set((await db.scalars(select(Upload.storage_key))).all())
    return files, rows
