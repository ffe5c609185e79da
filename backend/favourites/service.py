"""Favourites: list, add (idempotent), remove (idempotent). Only public institution facts are returned."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.errors import NotFound
from backend.favourites.models import Favourite
from backend.favourites.schemas import FavouriteList, FavouriteOut
from backend.government.models import Unit
from backend.institutions.models import Institution


async def list_favourites(db: AsyncSession, account_id: uuid.UUID) -> FavouriteList:
    rows = await db.execute(
        select(Favourite.institution_id, Institution.name, Unit.name_zh, Institution.address, Favourite.created_at)
        .join(Institution, Institution.id == Favourite.institution_id)
        .join(Unit, Unit.code == Institution.unit_code)
        .where(Favourite.account_id == account_id)
        .order_by(Favourite.created_at.desc(), Favourite.institution_id)
    )
    return FavouriteList(
        items=[
            FavouriteOut(institution_id=i, name=n, unit_name_zh=u, address=a, added_at=at) for i, n, u, a, at in rows
        ]
    )


async def add_favourite(db: AsyncSession, account_id: uuid.UUID, institution_id: uuid.UUID) -> None:
    exists = await db.scalar(select(Institution.id).where(Institution.id == institution_id))
    if exists is None:
        raise NotFound("institution", detail_zh="未找到该托育机构")
    await db.execute(
        insert(Favourite).values(account_id=account_id, institution_id=institution_id).on_conflict_do_nothing()
    )


async def remove_favourite(db: AsyncSession, account_id: uuid.UUID, institution_id: uuid.UUID) -> None:
    await db.execute(
        delete(Favourite).where(Favourite.account_id == account_id, Favourite.institution_id == institution_id)
    )
