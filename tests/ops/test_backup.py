"""`python -m backend backup` and `restore`: the database and the object store, round trip.

A demo database and stored files (local directory or the suite's S3 server) are backed up by the CLI,
restored by the CLI into a new, empty database and a new store, and compared: every table's row count
and a checksum of every row, every object's bytes. A restore into a database that is not empty is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from backend.core import pgserver
from backend.core.config import REPO_ROOT
from backend.core.storage import LocalStorage, Storage
from tests.conftest import TEST_SECRET, TEST_VAPID_PEM
from tests.live import scratch_database
from tests.s3server import ACCESS_KEY, SECRET_KEY

pytestmark = pytest.mark.server

OBJECTS = {
    "complaint_photo/2026/12/a1b2c3.jpg": (b"\xff\xd8\xff" + os.urandom(2000), "image/jpeg"),
    "notice_image/x9y8z7.png": (b"\x89PNG\r\n\x1a\n" + os.urandom(500), "image/png"),
    "filing_document/q/r/s.pdf": (b"%PDF-1.7\n" + os.urandom(3000) + b"\n%%EOF", "application/pdf"),
}


def cli(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "STORAGE_", "MIGRATE_", "PUBLIC_"))}
    environment.update(
        {"APP_ENV": "test", "SECRET_KEY": TEST_SECRET, "VAPID_PRIVATE_KEY": TEST_VAPID_PEM, "PYTHONWARNINGS": "ignore"}
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "backend", *command], cwd=REPO_ROOT, env=environment, capture_output=True, text=True
    )


async def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the schema: (row count, MD5 of all its rows in a stable order)."""
    conn = await asyncpg.connect(pgserver.asyncpg_dsn(url))
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return {
            t["tablename"]: tuple(
                await conn.fetchrow(
                    f"SELECT count(*), coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '') FROM \"{t['tablename']}\" r"
                )
            )
            for t in tables
        }
    finally:
        await conn.close()


def storage_env(kind: str, where: str, s3_endpoint: str) -> dict[str, str]:
    if kind == "local":
        return {"STORAGE_BACKEND": "local", "VAR_DIR": where}
    return {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT": f"http://{s3_endpoint}",
        "S3_ACCESS_KEY": ACCESS_KEY,
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_BUCKET": where,
        "VAR_DIR": str(Path(os.environ.get("TMPDIR", "/tmp")) / f"var-{where}"),  # nothing is written there
    }


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_backup_restores_into_a_new_database_and_store_identically(kind, server_url, s3_server, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    if kind == "local":
        source_store, target_store = str(tmp_path / "var-source"), str(tmp_path / "var-target")
        source: Storage = LocalStorage(Path(source_store) / "uploads")
        target: Storage = LocalStorage(Path(target_store) / "uploads")
    else:
        source_store, target_store = f"backup-src-{suffix}", f"backup-dst-{suffix}"
        source, target = s3_server.storage(source_store), s3_server.storage(target_store)

    async def put_all() -> None:
        for key, (data, content_type) in OBJECTS.items():
            await source.put(key, data, content_type)

    asyncio.run(put_all())
    backup_dir = tmp_path / "backup"
    with scratch_database(server_url, demo=True) as source_url:
        made = cli(
            ["backup", str(backup_dir)],
            {"DATABASE_URL": source_url, **storage_env(kind, source_store, s3_server.endpoint)},
        )
        assert made.returncode == 0, made.stdout + made.stderr
        assert (backup_dir / "database.dump").stat().st_size > 10_000
        assert backup_dir.stat().st_mode & 0o777 == 0o700  # personal data: the owner's alone
        before = asyncio.run(fingerprint(source_url))

        # Never over live data: a database that has tables is refused, and left alone.
        refused = cli(
            ["restore", str(backup_dir)],
            {"DATABASE_URL": source_url, **storage_env(kind, target_store, s3_server.endpoint)},
        )
        assert refused.returncode == 1 and "not empty" in refused.stderr
        assert asyncio.run(fingerprint(source_url)) == before

    name = f"dq_restored_{suffix}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    target_url = pgserver.with_database(server_url, name)
    try:
        done = cli(
            ["restore", str(backup_dir)],
            {"DATABASE_URL": target_url, **storage_env(kind, target_store, s3_server.endpoint)},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{len(OBJECTS)} stored objects" in done.stdout
        after = asyncio.run(fingerprint(target_url))
    finally:
        asyncio.run(pgserver.drop_database(server_url, name))

    assert set(after) == set(before) and len(before) > 30
    for table in ("accounts", "institutions", "slots", "audit_log", "alembic_version", "uploads"):
        assert table in before
    assert sum(count for count, _ in before.values()) > 100  # the demo data, not an empty schema
    assert after == before

    async def read_all() -> dict[str, bytes]:
        return {key: await target.get(key) for key in OBJECTS}

    restored = asyncio.run(read_all())
    assert {k: hashlib.sha256(v).hexdigest() for k, v in restored.items()} == {
        k: hashlib.sha256(data).hexdigest() for k, (data, _) in OBJECTS.items()
    }
