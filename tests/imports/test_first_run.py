"""A real deployment starts empty (SEED_DEMO=false), gets its first city admin from the command line,
and imports its registers with `python -m backend import`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from backend.core.config import REPO_ROOT
from backend.core.security import verify_password
from backend.imports.tables import FileFormat, read_table
from tests.conftest import TEST_SECRET, TEST_VAPID_PEM
from tests.demodb import rows
from tests.imports.helpers import inst_file, inst_row
from tests.live import free_port, scratch_database

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def empty_url(server_url):
    with scratch_database(server_url, demo=False) as url:
        yield url


def env(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET,
        "VAPID_PRIVATE_KEY": TEST_VAPID_PEM,
        "VAR_DIR": str(tmp / "var"),
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
        **extra,
    }


def backend(url: str, tmp: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        cwd=REPO_ROOT,
        env=env(url, tmp, **extra),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def count(url: str, table: str) -> int:
    return asyncio.run(rows(url, f"SELECT count(*) FROM {table}"))[0][0]


def test_run_with_seed_demo_false_serves_an_empty_city(empty_url, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "run"],
        cwd=REPO_ROOT,
        env=env(empty_url, tmp_path, SEED_DEMO="false", PORT=str(port), HOST="127.0.0.1", WORKERS="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "run exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "run did not become healthy"
            time.sleep(0.1)
        listed = httpx.get(f"http://127.0.0.1:{port}/api/units", timeout=5)
        assert listed.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for table in ("institutions", "rooms", "accounts", "complaints", "children", "notices", "blacklist_entries"):
        assert count(empty_url, table) == 0, table
    assert count(empty_url, "units") == 10  # reference data from the migrations


def test_create_admin_once_then_refuses_unless_forced(empty_url, tmp_path):
    made = backend(empty_url, tmp_path, "create-admin", "--email", "Admin@Daqing.example", "--phone", "13900000001",
                   ADMIN_PASSWORD="correct horse battery")  # fmt: skip
    assert made.returncode == 0, made.stderr
    found = asyncio.run(
        rows(
            empty_url,
            "SELECT a.email, a.password_hash, g.role FROM accounts a JOIN role_grants g ON g.account_id = a.id",
        )
    )
    assert [(e, r) for e, _, r in found] == [("admin@daqing.example", "city_admin")]
    assert verify_password(found[0][1], "correct horse battery")
    again = backend(empty_url, tmp_path, "create-admin", "--email", "b@daqing.example", "--phone", "13900000002")
    assert again.returncode == 3 and "exists" in again.stderr
    forced = backend(empty_url, tmp_path, "create-admin", "--email", "b@daqing.example", "--phone", "13900000002",
                     "--force")  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    password = next(line.split(" ", 1)[1] for line in forced.stdout.splitlines() if line.startswith("password "))
    hashed = asyncio.run(rows(empty_url, "SELECT password_hash FROM accounts WHERE email = 'b@daqing.example'"))[0][0]
    assert len(password) >= 16 and verify_password(hashed, password)
    short = backend(empty_url, tmp_path, "create-admin", "--email", "c@daqing.example", "--phone", "13900000003",
                    "--force", ADMIN_PASSWORD="short")  # fmt: skip
    assert short.returncode == 2 and count(empty_url, "accounts") == 2


def test_cli_import_dry_run_apply_and_export(empty_url, tmp_path):
    path = tmp_path / "备案名单.csv"
    path.write_bytes(inst_file([inst_row(101), inst_row(102)], FileFormat.CSV))
    dry = backend(empty_url, tmp_path, "import", "institutions", str(path), "--crs", "gcj02", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would create 2" in dry.stdout and count(empty_url, "institutions") == 0
    applied = backend(empty_url, tmp_path, "import", "institutions", str(path), "--crs", "gcj02")
    assert applied.returncode == 0, applied.stderr
    assert "created 2" in applied.stdout and count(empty_url, "institutions") == 2
    assert count(empty_url, "classes") == 4
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(inst_file([inst_row(103), inst_row(104, 班级1托位数="99")]))
    report = tmp_path / "report.xlsx"
    refused = backend(
        empty_url, tmp_path, "import", "institutions", str(bad), "--crs", "wgs84", "--report", str(report)
    )
    assert refused.returncode == 1 and count(empty_url, "institutions") == 2
    assert read_table(report.read_bytes()).header[-1] == "问题"
    unreadable = tmp_path / "x.csv"
    unreadable.write_bytes(b"\x80\x81\xff\xfe")
    assert backend(empty_url, tmp_path, "import", "rooms", str(unreadable), "--crs", "wgs84").returncode == 2
    out = tmp_path / "export.csv"
    exported = backend(empty_url, tmp_path, "export", "institutions", str(out), "--crs", "gcj02")
    assert exported.returncode == 0, exported.stderr
    again = backend(empty_url, tmp_path, "import", "institutions", str(out), "--crs", "gcj02")
    assert again.returncode == 0 and "created 0, updated 0, unchanged 2" in again.stdout
    history = asyncio.run(rows(empty_url, "SELECT via, status, created_by FROM import_runs ORDER BY created_at"))
    assert [h[:2] for h in history] == [("cli", "checked"), ("cli", "applied"), ("cli", "checked"), ("cli", "applied")]
