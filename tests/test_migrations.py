"""The schema exists only through Alembic: the migrations build exactly what the models describe."""

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.core import migrate, pgserver
from backend.core.db import Base
from backend.models import import_all_models

import_all_models()


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_models_and_migrations_agree(engine):
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_reference_data_is_loaded(db):
    units = (await db.execute(text("SELECT code, name_zh, population FROM units ORDER BY sort_order"))).all()
    assert len(units) == 10
    assert units[0].name_zh == "萨尔图区"
    assert 2_700_000 < sum(u.population for u in units) < 2_850_000  # ≈ 2.78 million (2020 census)
    governments = await db.scalar(text("SELECT count(*) FROM departments WHERE kind = 'unit_government'"))
    assert governments == 10
    health = await db.scalar(text("SELECT short_zh FROM departments WHERE code = 'health'"))
    assert health == "市卫健委"
    for extension in ("cube", "earthdistance", "btree_gist"):
        assert await db.scalar(text("SELECT 1 FROM pg_extension WHERE extname = :e"), {"e": extension}) == 1


@pytest.fixture
def scratch_url(server_url):
    name = f"dq_scratch_{uuid.uuid4().hex[:8]}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    yield pgserver.with_database(server_url, name)
    asyncio.run(pgserver.drop_database(server_url, name))


def test_downgrade_to_base_and_upgrade_again(scratch_url):
    migrate.upgrade(scratch_url)
    migrate.downgrade(scratch_url, "base")

    async def tables() -> list[str]:
        eng = create_async_engine(scratch_url, poolclass=NullPool)
        async with eng.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
        await eng.dispose()
        return sorted(rows)

    assert asyncio.run(tables()) == []
    migrate.upgrade(scratch_url)
    assert "institutions" in asyncio.run(tables())


async def test_constraints_in_the_database_are_the_models_constraints(db):
    """Autogenerate does not compare CHECK and EXCLUDE constraints: compare their names here."""
    from sqlalchemy import CheckConstraint, UniqueConstraint
    from sqlalchemy.dialects.postgresql import ExcludeConstraint

    expected = set()
    for table in Base.metadata.tables.values():
        for c in table.constraints:
            if isinstance(c, CheckConstraint | UniqueConstraint | ExcludeConstraint) and c.name:
                expected.add((table.name, str(c.name)))
    rows = await db.execute(
        text("""
        SELECT cl.relname, co.conname FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
        JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = 'public' AND co.contype IN ('c', 'u', 'x') AND cl.relname <> 'alembic_version'""")
    )
    assert {(r[0], r[1]) for r in rows} == expected


def test_0006_keeps_anonymous_complaint_photos_from_a_downgrade(scratch_url):
    """Ownerless uploads and complaint photos fit only from 0006 on; downgrading refuses rather than
    deleting rows whose stored objects would then be left behind."""
    migrate.upgrade(scratch_url, "0006")

    async def run(sql: str) -> None:
        eng = create_async_engine(scratch_url, poolclass=NullPool)
        async with eng.begin() as conn:
            await conn.execute(text(sql))
        await eng.dispose()

    asyncio.run(
        run(
            "INSERT INTO uploads (owner_id, purpose, storage_key, content_type, byte_size, width, height, sha256) "
            "VALUES (NULL, 'complaint_photo', 'complaint_photo/ab/ab12', 'image/png', 1, 1, 1, '\\x00')"
        )
    )
    with pytest.raises(RuntimeError, match="cannot downgrade below 0006"):
        migrate.downgrade(scratch_url, "0005")
    asyncio.run(run("DELETE FROM uploads"))
    migrate.downgrade(scratch_url, "0005")
    migrate.upgrade(scratch_url)
