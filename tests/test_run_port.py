"""`make run` on a port other than 8000: everything derived from where the server listens follows it.

The server is `python -m backend run` (what `make run` starts: migrations, demo data, uvicorn) with
neither PUBLIC_BASE_URL nor ALLOWED_ORIGINS set, on a free port. Through real HTTP and a real
WebSocket handshake it proves that the PWA's socket is accepted from the page's own origin, that the
signed photo links the API hands out point at this server and open, and that the CSP names it.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from PIL import Image
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backend.core import pgserver
from backend.core.config import REPO_ROOT
from backend.demo.data import DEMO_PASSWORD
from tests.live import free_port

pytestmark = pytest.mark.server

# Settings a developer's shell might carry that would hide what the defaults do.
CLEARED = ("PUBLIC_BASE_URL", "ALLOWED_ORIGINS", "APP_ENV", "HOST", "SECRET_KEY", "STORAGE_BACKEND", "WORKERS")


def start(command: str, database_url: str, log_path: Path, port: int, **env: str) -> subprocess.Popen:  # type: ignore[type-arg]
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(
        DATABASE_URL=database_url,
        PORT=str(port),
        VAR_DIR=str(log_path.parent / f"var-{port}"),
        LOG_LEVEL="INFO",
        PUSH_WORKER="false",
        PYTHONWARNINGS="ignore",
        **env,
    )
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "backend", command],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def server(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`python -m backend run` on a scratch database (it migrates and seeds it itself)."""
    name = f"dq_port_{os.getpid()}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    url = pgserver.with_database(server_url, name)
    port = free_port()
    log_path = tmp_path_factory.mktemp("run-port") / "run.log"
    process = start("run", url, log_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # migrations and the demo data come first
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"`python -m backend run` exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"`python -m backend run` did not become healthy:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base, log_path
    finally:
        stop(process)
        asyncio.run(pgserver.drop_database(server_url, name))


def test_the_csp_names_this_origin_and_its_websocket(server):
    base, log_path = server
    port = base.rsplit(":", 1)[1]
    csp = httpx.get(base + "/").headers["content-security-policy"]
    connect_src = next(d for d in csp.split("; ") if d.startswith("connect-src "))
    assert f"ws://127.0.0.1:{port}" in connect_src.split()
    assert ":8000" not in csp
    log = log_path.read_text()
    assert f"serving on http://127.0.0.1:{port} for http://127.0.0.1:{port}" in log
    assert "does not match" not in log


async def test_the_pwas_websocket_is_accepted_from_the_page_origin(server):
    base, _ = server
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/auth/login", json={"login": "city.admin@daqing.example", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        cookie = f"dq_session={r.cookies['dq_session']}"
    ws_url = base.replace("http://", "ws://") + "/ws"
    # Exactly what the PWA sends: the session cookie, and the page's own origin.
    async with connect(ws_url, origin=base, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        ready = msgspec.json.decode(await asyncio.wait_for(ws.recv(), timeout=10))
        assert ready["type"] == "ready"
    with pytest.raises(InvalidStatus) as refused:  # the old fixed default is not this server's origin
        await connect(ws_url, origin="http://127.0.0.1:8000", additional_headers={"Cookie": cookie}, open_timeout=10)
    assert refused.value.response.status_code == 403


async def test_signed_photo_links_point_at_this_server_and_open(server):
    base, _ = server
    photo = io.BytesIO()
    Image.new("RGB", (24, 16), (30, 120, 200)).save(photo, "JPEG")
    form = {
        "category": "health_hygiene",
        "description": "母婴室的尿布台坏了。",
        "target_type": "place",
        "lat": "46.63",
        "lng": "125.11",
    }
    async with httpx.AsyncClient(base_url=base) as http:
        parts = [(k, (None, v)) for k, v in form.items()] + [("photos", ("p.jpg", photo.getvalue(), "image/jpeg"))]
        filed = await http.post("/api/complaints", files=parts)
        assert filed.status_code == 201, filed.text
        r = await http.post("/api/auth/login", json={"login": "city.admin@daqing.example", "password": DEMO_PASSWORD})
        token = r.json()["token"]
        detail = await http.get(
            f"/api/complaints/desk/{filed.json()['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        assert detail.status_code == 200, detail.text
        (link,) = detail.json()["photo_urls"]
        assert link["url"].startswith(base + "/api/files/signed/"), link["url"]
    async with httpx.AsyncClient() as fresh:  # no sign-in: the link is the permission
        image = await fresh.get(link["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (24, 16)


def test_an_explicit_public_url_elsewhere_is_reported_in_one_line(server_url, tmp_path):
    """PUBLIC_BASE_URL left on :8000 while the server listens elsewhere: startup says so, once."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    url = pgserver.with_database(server_url, "postgres")
    process = start("serve", url, log_path, port, PUBLIC_BASE_URL="http://127.0.0.1:8000")
    try:
        deadline = time.monotonic() + 30
        while "Uvicorn running" not in log_path.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
    finally:
        stop(process)
    lines = [line for line in log_path.read_text().splitlines() if "does not match" in line]
    assert len(lines) == 1, log_path.read_text()
    assert (
        f"PUBLIC_BASE_URL http://127.0.0.1:8000 does not match where this server listens (127.0.0.1:{port})" in lines[0]
    )
    assert "WARNING" in lines[0]
