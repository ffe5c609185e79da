"""Re-encrypt children's data with the primary key of CHILD_DATA_KEYS: names and birth dates, and the
children's health records (``backend/childhealth``: sex, growth readings, follow-up reasons, daily
check findings, entry check records, missing vaccine doses; ``HEALTH_TABLES``).

Rotation: put a new key first in CHILD_DATA_KEYS (keeping the old ones after it), restart the app
(new and changed rows now use the new key, old rows still decrypt), run
``python -m backend rekey-children``, then drop the old keys from CHILD_DATA_KEYS.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import LargeBinary, column, select, table, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.core.crypto import ChildDataKeys

# The table seen as raw bytes (no TypeDecorator): rows are re-encrypted without being interpreted.
_raw = table("children", column("id"), column("name", LargeBinary), column("birth_date", LargeBinary))
LABELS = {"name": "children.name", "birth_date": "children.birth_date"}


# The health tables: (table, key column, encrypted column); the label is "<table>.<column>".
HEALTH_TABLES: tuple[tuple[str, str, str], ...] = (
    ("child_health_profiles", "child_id", "sex"),
    ("growth_measurements", "id", "readings"),
    ("health_follow_ups", "id", "reasons"),
    ("daily_health_checks", "id", "findings"),
    ("entry_health_checks", "id", "record"),
    ("vaccination_checks", "id", "missing"),
)


async def rekey_batch(
    conn: AsyncConnection,
    keys: ChildDataKeys,
    after: uuid.UUID,
    *,
    batch: int = 200,
    only: Collection[uuid.UUID] | None = None,
    raw: Any = None,
    labels: dict[str, str] | None = None,
    key: str = "id",
) -> tuple[int, uuid.UUID | None]:
    """Lock the next ``batch`` rows after id ``after`` and rewrite those not under ``keys.primary``;
    returns (rows rewritten, last id seen, or None when no rows are left). ``only`` limits the ids.
    ``raw``/``labels``/``key``: another table, its encrypted columns and its key column."""
    raw = _raw if raw is None else raw
    labels = LABELS if labels is None else labels
    pk = raw.c[key]
    query = select(pk.label("id"), *(raw.c[f] for f in labels)).where(pk > after)
    if only is not None:
        query = query.where(pk.in_(list(only)))
    rows = (await conn.execute(query.order_by(pk).limit(batch).with_for_update())).all()
    done = 0
    for row in rows:
        values = {}
        for field, label in labels.items():
            blob = bytes(getattr(row, field))
            if keys.key_id_of(blob) != keys.primary:
                values[field] = keys.encrypt(label, keys.decrypt(label, blob))
        if values:
            await conn.execute(update(raw).where(pk == row.id).values(**values))
            done += 1
    return done, rows[-1].id if rows else None


def health_table(name: str, key: str, field: str) -> tuple[Any, dict[str, str]]:
    """A health table seen as raw bytes (its key column is ``key``)."""
    raw = table(name, column(key), column(field, LargeBinary))
    return raw, {field: f"{name}.{field}"}


async def rekey_children(engine: AsyncEngine, keys: ChildDataKeys, *, batch: int = 200) -> int:
    """Rewrite every child row (and every health record) not yet under ``keys.primary``, one committed
    batch at a time (the app keeps working meanwhile); returns how many rows were rewritten."""
    total = 0
    tables = [(None, None, "id"), *((*health_table(*spec), spec[1]) for spec in HEALTH_TABLES)]
    for raw, labels, key in tables:
        if raw is not None:
            async with engine.connect() as conn:
                if await conn.scalar(text("SELECT to_regclass(:t)"), {"t": raw.name}) is None:
                    continue  # an older schema without this table (nothing to rewrite)
        after = uuid.UUID(int=0)
        while True:
            async with engine.begin() as conn:
                done, last = await rekey_batch(conn, keys, after, batch=batch, raw=raw, labels=labels, key=key)
            total += done
            if last is None:
                break
            after = last
    return total


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
