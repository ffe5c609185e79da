"""The object store goes away: a complaint's text is still saved, its photos are refused with a clear,
retryable answer, and the reporter adds them with the tracking code once storage is back. Uploads
answer 503 ``storage_unavailable`` with Retry-After. The S3 server is a real ``rclone serve s3`` that
the test stops and starts again; the app is a real uvicorn subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from backend.complaints.models import Complaint
from backend.core.storage import S3Storage
from backend.files.models import Upload
from tests.complaints.test_filing import file, form, jpeg_with_gps
from tests.faults.conftest import wait_until
from tests.live import free_port, live_server, scratch_database
from tests.s3server import ACCESS_KEY, SECRET_KEY, rclone_binary
from tests.world import account, execute

BUCKET = "faults-uploads"


class StoppableS3:
    """``rclone serve s3`` on a fixed port and directory, stopped and started at will."""

    def __init__(self, base: Path) -> None:
        self.base, self.data = base, base / "data"
        self.data.mkdir(parents=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.base / "rclone.log").open("ab")
        self.process = subprocess.Popen(
            [
                rclone_binary(),
                "serve",
                "s3",
                "--config",
                str(self.base / "rclone.conf"),
                "--addr",
                f"127.0.0.1:{self.port}",
                "--auth-key",
                f"{ACCESS_KEY},{SECRET_KEY}",
                str(self.data),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.base / "rclone.log").read_text(errors="replace")) from None
            time.sleep(0.05)  # polling for the port

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def objects(self) -> set[str]:
        root = self.data / BUCKET
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def s3(tmp_path) -> Iterator[StoppableS3]:
    server = StoppableS3(tmp_path / "s3")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def database(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, demo=False) as url:
        yield url


def photo_parts(count: int) -> list[tuple[str, Any]]:
    return [("photos", (f"p{i}.jpg", jpeg_with_gps(), "image/jpeg")) for i in range(count)]


def filing(count: int) -> list[tuple[str, Any]]:
    return [(k, (None, v)) for k, v in form().items()] + photo_parts(count)


def check_storage_error(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["retry-after"]) >= 1
    body = r.json()
    assert body["code"] == "storage_unavailable" and body["detail_zh"] and body["detail"]
    assert "Traceback" not in r.text and "<html" not in r.text


async def complaint_photos(url: str, complaint_id: str) -> list[str]:
    rows = await execute(url, select(Upload.storage_key).where(Upload.subject_id == uuid.UUID(complaint_id)))
    return [r.storage_key for r in rows]


async def test_storage_down_saves_the_text_refuses_photos_retryably_and_they_can_be_added_later(s3, database, tmp_path):
    env = {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT": f"127.0.0.1:{s3.port}",
        "S3_ACCESS_KEY": ACCESS_KEY,
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_BUCKET": BUCKET,
        "S3_SECURE": "false",
        "PUSH_WORKER": "false",
    }
    url = database
    with live_server(url, tmp_path, **env) as server:
        _, parent_token = await account(url, "parent")
        parent = {"Authorization": f"Bearer {parent_token}"}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            # Storage up: photos are stored with the complaint.
            r = await http.post("/api/complaints", files=filing(1))
            assert r.status_code == 201, r.text
            assert r.json()["photos"] == 1 and r.json()["photos_not_stored"] is None
            assert len(s3.objects()) == 1

            s3.stop()
            # The separate upload endpoint: 503, retryable.
            started = time.monotonic()
            r = await http.post(
                "/api/uploads",
                params={"purpose": "notice_image"},
                files={"file": ("a.jpg", jpeg_with_gps(), "image/jpeg")},
                headers=parent,
            )
            check_storage_error(r)
            assert time.monotonic() - started < 10  # fails fast
            # A filing with photos: the text is saved; the answer says the photos were not and how to add them.
            r = await http.post("/api/complaints", files=filing(2), headers=parent)
            assert r.status_code == 201, r.text
            filed = r.json()
            assert filed["photos"] == 0
            missing = filed["photos_not_stored"]
            assert missing["count"] == 2 and missing["code"] == "storage_unavailable"
            assert missing["add_photos"] == "/api/complaints/track/photos" and missing["retry_after_s"] >= 1
            assert missing["detail_zh"] and missing["detail"]
            tracked = await http.post("/api/complaints/track", json={"tracking_code": filed["tracking_code"]})
            assert tracked.status_code == 200 and tracked.json()["photos"] == 0
            mine = await http.get(f"/api/complaints/mine/{filed['id']}", headers=parent)
            assert mine.status_code == 200 and mine.json()["description"] == form()["description"]
            # Adding them while storage is still down: 503, retryable, nothing attached.
            add = [("tracking_code", (None, filed["tracking_code"])), *photo_parts(2)]
            check_storage_error(await http.post("/api/complaints/track/photos", files=add))
            assert await complaint_photos(url, filed["id"]) == []

            s3.start()
            r = await http.post("/api/complaints/track/photos", files=add)
            assert r.status_code == 201, r.text
            assert r.json() == {"photos": 2}
            keys = await complaint_photos(url, filed["id"])
            assert len(keys) == 2 and set(keys) <= s3.objects()
            tracked = await http.post("/api/complaints/track", json={"tracking_code": filed["tracking_code"]})
            assert tracked.json()["photos"] == 2

            # No object without a row: every stored object belongs to an upload row (unattached rows
            # left by the failed attempts are the maintenance job's; their objects were never written).
            rows = {r.storage_key for r in await execute(url, select(Upload.storage_key))}
            await wait_until(lambda: s3.objects() <= rows, timeout=10, what="objects to have rows")
            assert len(s3.objects()) == 3


# ---------------------------------------------------------------------------------------------- in-process


@pytest.fixture
def storage_down(app: Any) -> Iterator[S3Storage]:
    """The app's storage for this test: an S3 server on a port where nothing listens."""
    original = app.state["storage"]
    app.state["storage"] = S3Storage(
        endpoint=f"127.0.0.1:{free_port()}", access_key=ACCESS_KEY, secret_key=SECRET_KEY, bucket=BUCKET, secure=False
    )
    try:
        yield app.state["storage"]
    finally:
        app.state["storage"] = original


async def test_inline_photos_with_storage_down_file_the_complaint_without_them(client, db, storage_down):
    started = time.monotonic()
    r = await file(client, photos=[jpeg_with_gps()])
    assert time.monotonic() - started < 10
    assert r.status_code == 201, r.text
    assert r.json()["photos_not_stored"]["count"] == 1
    complaint = await db.scalar(select(Complaint).where(Complaint.id == r.json()["id"]))
    assert complaint is not None and complaint.description == form()["description"]


async def test_adding_photos_is_checked(client, db, app):
    r = await file(client, photos=[jpeg_with_gps()] * 5)
    assert r.status_code == 201, r.text
    code = r.json()["tracking_code"]

    async def add(count: int, tracking_code: str = code) -> httpx.Response:
        return await client.post(
            "/api/complaints/track/photos", files=[("tracking_code", (None, tracking_code)), *photo_parts(count)]
        )

    unknown = await add(1, "AAAAA-AAAAA-AAAAA-AAAAA")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert (await add(1, "short")).status_code == 400
    assert (await add(0)).json()["code"] == "no_photos"
    too_many = await add(2)
    assert too_many.status_code == 422 and too_many.json()["code"] == "too_many_photos"
    ok = await add(1)
    assert ok.status_code == 201 and ok.json() == {"photos": 6}
    r2 = await file(client)
    closed_code = r2.json()["tracking_code"]
    await db.execute(update(Complaint).where(Complaint.id == r2.json()["id"]).values(status="resolved"))
    await db.flush()
    closed = await add(1, closed_code)
    assert closed.status_code == 409 and closed.json()["code"] == "complaint_closed"
    assert json.loads(closed.text)["detail_zh"]
