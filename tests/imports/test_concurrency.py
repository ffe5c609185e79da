"""Two applies of the same checked run at once: exactly one writes, the other gets 409; two different
runs of the same file at once: the per-register lock makes the second find every row unchanged."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend.core.errors import Conflict
from backend.imports import service
from backend.imports.crs import Crs
from backend.imports.models import ImportRun
from backend.institutions.models import Institution
from tests.imports.helpers import inst_file, inst_row, uscc

SEEDS = (9101, 9102, 9103)


@pytest.fixture
async def sessions(engine):
    maker = async_sessionmaker(engine, expire_on_commit=False)
    yield maker
    async with maker() as db:
        await db.execute(delete(Institution).where(Institution.registration_no.in_([uscc(s) for s in SEEDS])))
        await db.execute(delete(ImportRun).where(ImportRun.filename == "concurrent"))
        await db.commit()


async def _dry(maker, content):
    async with maker() as db:
        run = await service.dry_run(db, None, kind="institutions", content=content, filename="concurrent",
                                    crs=Crs.WGS84, actor=None, via="cli")  # fmt: skip
        await db.commit()
        return run.id


async def _apply(maker, run_id):
    async with maker() as db:
        try:
            run = await service.apply(db, None, run_id, None)
            await db.commit()
            return run.counts
        except Conflict as exc:
            await db.rollback()
            return exc.code


async def test_the_same_run_applied_twice_at_once_writes_once(sessions):
    content = inst_file([inst_row(s) for s in SEEDS])
    run_id = await _dry(sessions, content)
    results = await asyncio.gather(_apply(sessions, run_id), _apply(sessions, run_id))
    assert sorted(map(str, results)) == sorted(
        [str({"create": 3, "update": 0, "classes": 6, "unchanged": 0}), "import_applied"]
    )
    async with sessions() as db:
        codes = [uscc(s) for s in SEEDS]
        assert (
            await db.scalar(select(func.count()).select_from(Institution).where(Institution.registration_no.in_(codes)))
            == 3
        )


async def test_two_runs_of_one_file_at_once_create_each_row_once(sessions):
    content = inst_file([inst_row(s) for s in SEEDS])
    first, second = await _dry(sessions, content), await _dry(sessions, content)
    results = await asyncio.gather(_apply(sessions, first), _apply(sessions, second))
    assert sorted(r["create"] for r in results) == [0, 3]
    assert sorted(r["unchanged"] for r in results) == [0, 3]
