"""Real servers for tests: `python -m backend serve` in a subprocess, on its own migrated database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from backend.core import migrate, pgserver
from backend.core.config import REPO_ROOT
from backend.demo.seed import seed
from tests.conftest import TEST_SECRET, TEST_VAPID_PEM, make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    process: subprocess.Popen  # type: ignore[type-arg]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def scratch_database(server_url: str, *, demo: bool) -> Iterator[str]:
    name = f"dq_live_{uuid.uuid4().hex[:8]}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    url = pgserver.with_database(server_url, name)
    try:
        migrate.upgrade(url)
        if demo:
            asyncio.run(seed(url, make_settings()))
        yield url
    finally:
        asyncio.run(pgserver.drop_database(server_url, name))


@contextmanager
def live_server(
    database_url: str, log_dir: Path, port: int | None = None, startup_s: float = 30, **env: str
) -> Iterator[LiveServer]:
    """Start the app exactly as `make run` serves it (one uvicorn worker) and wait until it is healthy
    (for up to ``startup_s``: several workers on a loaded machine need longer). ``port``: when the
    environment must name the server's own URL (e.g. PUBLIC_BASE_URL)."""
    port = port or free_port()
    log_path = log_dir / f"server-{port}.log"
    environment = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "VAPID_PRIVATE_KEY": TEST_VAPID_PEM,
        "VAR_DIR": str(log_dir / f"var-{port}"),  # uploads land here, not in the repository's var/
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        # the page's own origin (the PWA opens /ws from it) and the development default
        "ALLOWED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port},http://127.0.0.1:8000",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
        # Quiet hours (22:00-07:00 Beijing) would hold normal pushes back whenever the suite runs at
        # night; tests of quiet hours set their own window.
        "NOTIFY_QUIET_HOURS": "off",
        **env,
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, proc, log_path)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
            try:
                if httpx.get(server.base_url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become healthy:\n{server.log()}")
            time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def two_servers(server_url: str, log_dir: Path, **env: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two app processes on one fresh (non-demo) database: what one does, the other must hear."""
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, log_dir, **env) as a,
        live_server(url, log_dir, **env) as b,
    ):
        yield a, b
