"""Registered Open311 clients: their API keys, and the ``open311-client`` CLI command."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.complaints.models import Open311Client
from backend.complaints.open311.wire import KEY_PREFIX
from backend.core import tx
from backend.core.clock import utcnow
from backend.core.config import Settings
from backend.core.db import create_engine
from backend.core.security import token_digest


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def add_client(db: AsyncSession, name: str) -> tuple[uuid.UUID, str]:
    """Register a client; returns its id and its key (the key is not kept, only its digest)."""
    key = new_api_key()
    client = Open311Client(id=uuid.uuid4(), name=name, key_digest=token_digest(key))
    db.add(client)
    await db.flush()
    return client.id, key


async def revoke_client(db: AsyncSession, client_id: uuid.UUID) -> bool:
    result = await db.execute(
        update(Open311Client)
        .where(Open311Client.id == client_id, Open311Client.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _run_clients(settings: Settings, url: str, args: argparse.Namespace) -> int:
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            if args.action == "add":
                client_id, key = await add_client(db, args.name)
                await tx.commit_outside_request(db)
                print(f"client {client_id} ({args.name})")
                print(f"api_key {key}")
                print(
                    "The key is shown only this once; keep it safe. 此 api_key 仅显示一次，请妥善保存。",
                    file=sys.stderr,
                )
                return 0
            if args.action == "revoke":
                revoked = await revoke_client(db, args.client_id)
                await tx.commit_outside_request(db)
                print("revoked" if revoked else "no such active client")
                return 0 if revoked else 1
            rows = (await db.execute(select(Open311Client).order_by(Open311Client.created_at))).scalars()
            for c in rows:
                state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
                print(f"{c.id}  {c.created_at:%Y-%m-%d}  {state:<24}  {c.name}")
            return 0
    finally:
        await engine.dispose()


def clients_command(settings: Settings, url: str, argv: Sequence[str]) -> int:
    """``python -m backend open311-client add "<name>" | revoke <id> | list``."""
    parser = argparse.ArgumentParser(prog="python -m backend open311-client", description="Open311 api keys")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a client and print its new api_key (once)")
    add.add_argument("name", type=lambda s: s.strip()[:100] or parser.error("a name is required"))
    revoke = actions.add_parser("revoke", help="revoke a client's key at once")
    revoke.add_argument("client_id", type=uuid.UUID)
    actions.add_parser("list", help="list clients")
    args = parser.parse_args(list(argv))
    return asyncio.run(_run_clients(settings, url, args))
