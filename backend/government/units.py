"""Where a point lies: the unit (district, county, zone) whose centre is nearest."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.errors import RuleViolation
from backend.government.models import Unit

DAQING_RADIUS_M = 150_000  # farther than this from every unit's centre is outside Daqing


async def nearest_unit(db: AsyncSession, lat: float, lng: float) -> int:
    row = (
        await db.execute(
            select(
                Unit.code,
                func.earth_distance(
                    func.ll_to_earth(Unit.center_lat, Unit.center_lng), func.ll_to_earth(lat, lng)
                ).label("m"),
            )
            .order_by(text("m"))
            .limit(1)
        )
    ).one()
    if row.m > DAQING_RADIUS_M:
        raise RuleViolation("The location is outside Daqing", detail_zh="该位置不在大庆市范围内", code="outside_daqing")
    return int(row.code)
