"""Apply Alembic migrations programmatically (the CLI and the tests use this)."""

from __future__ import annotations

import asyncio

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
