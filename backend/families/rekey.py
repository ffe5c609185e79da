"""Re-encrypt children's names and birth dates with the primary key of CHILD_DATA_KEYS.

Rotation: put a new key first in CHILD_DATA_KEYS (keeping the old ones after it), restart the app
(new and changed rows now use the new key, old rows still decrypt), run
``python -m backend rekey-children``, then drop the old keys from CHILD_DATA_KEYS.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import LargeBinary, column, select, table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.core.crypto import ChildDataKeys

# The table seen as raw bytes (no TypeDecorator): rows are re-encrypted without being interpreted.
_raw = table("children", column("id"), column("name", LargeBinary), column("birth_date", LargeBinary))
LABELS = {"name": "children.name", "birth_date": "children.birth_date"}


async def rekey_batch(
    conn: AsyncConnection,
    keys: ChildDataKeys,
    after: uuid.UUID,
    *,
    batch: int = 200,
    only: Collection[uuid.UUID] | None = None,
) -> tuple[int, uuid.UUID | None]:
    """Lock the next ``batch`` rows after id ``after`` and rewrite those not under ``keys.primary``;
    returns (rows rewritten, last id seen, or None when no rows are left). ``only`` limits the ids."""
    query = select(_raw.c.id, _raw.c.name, _raw.c.birth_date).where(_raw.c.id > after)
    if only is not None:
        query = query.where(_raw.c.id.in_(list(only)))
    rows = (await conn.execute(query.order_by(_raw.c.id).limit(batch).with_for_update())).all()
    done = 0
    for row in rows:
        values = {}
        for field, label in LABELS.items():
            blob = bytes(getattr(row, field))
            if keys.key_id_of(blob) != keys.primary:
                values[field] = keys.encrypt(label, keys.decrypt(label, blob))
        if values:
            await conn.execute(update(_raw).where(_raw.c.id == row.id).values(**values))
            done += 1
    return done, rows[-1].id if rows else None


async def rekey_children(engine: AsyncEngine, keys: ChildDataKeys, *, batch: int = 200) -> int:
    """Rewrite every child row not yet under ``keys.primary``, one committed batch at a time (the app
    keeps working meanwhile); returns how many rows were rewritten."""
    total, after = 0, uuid.UUID(int=0)
    while True:
        async with engine.begin() as conn:
            done, last = await rekey_batch(conn, keys, after, batch=batch)
        total += done
        if last is None:
            return total
        after = last


async def run(settings, url: str) -> int:
    from backend.core import crypto
    from backend.core.db import create_engine

    keys = ChildDataKeys.from_settings(settings)
    crypto.install(keys)
    engine = create_engine(settings, url)
    try:
        return await rekey_children(engine, keys)
    finally:
        await engine.dispose()
