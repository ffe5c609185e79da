"""Apply Alembic migrations programmatically (the CLI and the tests use this), and give the app's own
database role exactly the privileges it needs when the migrations run as a separate owner role."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote, urlsplit

import asyncpg
from alembic import command
from alembic.config import Config

from backend.core.config import REPO_ROOT


def alembic_config(url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Alembic's env runs its own event loop, so from async code run it in a thread."""
    await asyncio.to_thread(upgrade, url, revision)


# What the app's role may do (run by the owner after every migration, so new tables are covered):
# read and write the domain tables; only read and append to the audit log; nothing on Alembic's table.
APP_PRIVILEGES = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE ALL ON alembic_version FROM {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM {role}",
)


def role_of(url: str) -> str:
    """The user name in a database URL."""
    name = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1)).username
    if not name:
        raise ValueError("the database URL names no user")
    return unquote(name)


async def grant_app_privileges(owner_url: str, role: str) -> None:
    """As the owner: ``role`` gets APP_PRIVILEGES on everything the migrations created."""
    quoted = '"' + role.replace('"', '""') + '"'
    conn = await asyncpg.connect(owner_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        async with conn.transaction():
            for statement in APP_PRIVILEGES:
                await conn.execute(statement.format(role=quoted))
    finally:
        await conn.close()
