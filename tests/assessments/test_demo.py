"""The demo assessments: a good share of institutions graded A-D, one with open rectification items,
all marked fictional, and seeding twice adds nothing."""

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.core import migrate, pgserver
from backend.core.clock import local_today
from backend.demo.seed import seed


@pytest.fixture(scope="module")
def demo_url(server_url, settings):
    name = f"dq_demo_assess_{uuid.uuid4().hex[:8]}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    url = pgserver.with_database(server_url, name)
    migrate.upgrade(url)
    asyncio.run(seed(url, settings))
    yield url
    asyncio.run(pgserver.drop_database(server_url, name))


async def _rows(url, sql, **params):
    eng = create_async_engine(url, poolclass=NullPool)
    try:
        async with eng.connect() as conn:
            return (await conn.execute(text(sql), params)).all()
    finally:
        await eng.dispose()


async def test_demo_assessments(demo_url, settings):
    [(institutions, rated, grades, marked, drafts)] = await _rows(
        demo_url,
        """
        SELECT (SELECT count(*) FROM institutions),
               count(DISTINCT institution_id) FILTER (WHERE status = 'published'),
               array_agg(DISTINCT grade ORDER BY grade) FILTER (WHERE status = 'published'),
               bool_and(starts_with(summary, '【演示】') AND starts_with(findings, '【演示】')),
               count(*) FILTER (WHERE status = 'draft')
        FROM assessments
        """,
    )
    assert rated >= institutions / 2
    assert grades == ["A", "B", "C", "D"]
    assert marked and drafts == 1
    [(open_items, overdue)] = await _rows(
        demo_url,
        "SELECT count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'open' AND deadline < :today)"
        " FROM assessment_items",
        today=local_today(),
    )
    assert open_items == 2 and overdue == 1
    before = await _rows(demo_url, "SELECT count(*) FROM assessments UNION ALL SELECT count(*) FROM assessment_items")
    await seed(demo_url, settings)
    assert (
        await _rows(demo_url, "SELECT count(*) FROM assessments UNION ALL SELECT count(*) FROM assessment_items")
        == before
    )
