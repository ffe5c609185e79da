from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend.core.storage import LocalStorage, Storage
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
