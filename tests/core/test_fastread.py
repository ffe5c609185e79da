"""core/fastread: a compiled statement run on the request's connection gives the ORM path's rows, sees
the request's transaction, and fails with the ORM path's errors."""

from __future__ import annotations

import pytest
from sqlalchemy import ARRAY, Integer, String, bindparam, column, func, literal, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core import fastread

NUMBERS = select(
    func.generate_series(1, bindparam("upto", type_=Integer)).label("n"),
    literal("fixed").label("label"),  # a literal the compiled statement binds by itself
    func.cardinality(bindparam("tags", type_=ARRAY(String))).label("tags"),  # a parameter with a bind processor
)


async def test_same_rows_as_the_orm_path(db: AsyncSession) -> None:
    params = {"upto": 4, "tags": ["a", "b", "c"]}
    orm = [tuple(r) for r in (await db.execute(NUMBERS, params)).all()]
    fast = [tuple(r) for r in await fastread.fetch(db, NUMBERS, params)]
    assert fast == orm == [(n, "fixed", 3) for n in range(1, 5)]
    # compiled once per statement object
    assert fastread.compiled(NUMBERS, db.bind.dialect) is fastread.compiled(NUMBERS, db.bind.dialect)


async def test_reads_inside_the_requests_transaction(db: AsyncSession) -> None:
    await db.execute(text("CREATE TEMPORARY TABLE fastread_probe (n int) ON COMMIT DROP"))
    await db.execute(text("INSERT INTO fastread_probe VALUES (7)"))
    stmt = select(column("n")).select_from(text("fastread_probe"))
    assert [r["n"] for r in await fastread.fetch(db, stmt, {})] == [7]


async def test_database_errors_are_sqlalchemys(db: AsyncSession) -> None:
    stmt = select((literal(1) / bindparam("zero", type_=Integer)).label("x"))
    with pytest.raises(DBAPIError) as orm:
        await db.execute(stmt, {"zero": 0})
    await db.rollback()
    with pytest.raises(DBAPIError) as fast:
        await fastread.fetch(db, stmt, {"zero": 0})
    assert type(fast.value) is type(orm.value)
    assert getattr(fast.value.orig, "sqlstate", None) == getattr(orm.value.orig, "sqlstate", None) == "22012"
    assert not fast.value.connection_invalidated


def test_expanding_in_is_refused(db: AsyncSession) -> None:
    stmt = select(column("n")).where(column("n").in_(bindparam("ns", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        fastread.compiled(stmt, db.bind.dialect)
