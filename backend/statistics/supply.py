"""The supply gap (seed §三.1, §二): places against the plan's 4.5 per 1,000 residents, per unit and street.

For each unit the principal may see (``statistics.view``'s scope) and for each street / community
with imported population figures:

* places (托位: class capacity) and 普惠 places, of institutions in the area (a street's institutions
  are those imported with that street);
* residents and children aged 0-3: the latest year imported for the area (``population_areas``);
  for a unit without imported figures, the units table's demo population, flagged ``approximate``
  (and no children's figure);
* places per 1,000 residents against the target of 4.5, places per 100 children aged 0-3, and the gap:
  the places still needed to reach the target (0 when it is met).

Streets are ranked neediest first: the largest gap, then the fewest places per 1,000 residents.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.authz import Principal
from backend.core.schemas import Output
from backend.statistics.permissions import unit_codes
from backend.statistics.service import NOT_BLACKLISTED

TARGET_PER_1000 = 4.5


class AreaSupply(Output):
    unit_code: int
    unit: str
    street: str | None  # None: the whole unit
    year: int | None  # of the population figures; None with the demo population
    approximate: bool  # the demo population (no imported figures for this unit)
    residents: int
    children_0_3: int | None
    places: int
    inclusive_places: int
    places_per_1000: float
    places_per_100_children: float | None
    target_places: int
    gap: int
    center_lat: float | None = None
    center_lng: float | None = None


class SupplyGap(Output):
    target_per_1000: float
    units: list[AreaSupply]
    streets: list[AreaSupply]  # neediest first


# Blacklisted institutions offer no places, as in the overview (``service.NOT_BLACKLISTED``).
_UNITS_SQL = f"""
WITH pop AS (
    SELECT DISTINCT ON (unit_code) unit_code, year, residents, children_0_3
    FROM population_areas WHERE street = '' ORDER BY unit_code, year DESC
),
places AS (
    SELECT i.unit_code, sum(c.capacity) AS places,
           sum(CASE WHEN i.is_inclusive THEN c.capacity ELSE 0 END) AS inclusive_places
    FROM classes c JOIN institutions i ON i.id = c.institution_id WHERE {NOT_BLACKLISTED} GROUP BY 1
)
SELECT u.code, u.name_zh, u.center_lat, u.center_lng, p.year, p.residents IS NULL AS approximate,
       coalesce(p.residents, u.population) AS residents, p.children_0_3,
       coalesce(pl.places, 0) AS places, coalesce(pl.inclusive_places, 0) AS inclusive_places
FROM units u LEFT JOIN pop p ON p.unit_code = u.code LEFT JOIN places pl ON pl.unit_code = u.code
WHERE u.code = ANY(:units)
ORDER BY u.sort_order
"""

_STREETS_SQL = f"""
WITH pop AS (
    SELECT DISTINCT ON (unit_code, street) unit_code, street, year, residents, children_0_3
    FROM population_areas WHERE street <> '' ORDER BY unit_code, street, year DESC
),
places AS (
    SELECT i.unit_code, i.street, sum(c.capacity) AS places,
           sum(CASE WHEN i.is_inclusive THEN c.capacity ELSE 0 END) AS inclusive_places
    FROM classes c JOIN institutions i ON i.id = c.institution_id
    WHERE i.street IS NOT NULL AND {NOT_BLACKLISTED} GROUP BY 1, 2
)
SELECT p.unit_code AS code, u.name_zh, p.street, p.year, p.residents, p.children_0_3,
       coalesce(pl.places, 0) AS places, coalesce(pl.inclusive_places, 0) AS inclusive_places
FROM pop p JOIN units u ON u.code = p.unit_code
LEFT JOIN places pl ON pl.unit_code = p.unit_code AND pl.street = p.street
WHERE p.unit_code = ANY(:units)
"""


def _area(row: Any, *, street: str | None, approximate: bool) -> AreaSupply:
    target = math.ceil(TARGET_PER_1000 * row.residents / 1000)
    return AreaSupply(
        unit_code=row.code,
        unit=row.name_zh,
        street=street,
        year=row.year,
        approximate=approximate,
        residents=row.residents,
        children_0_3=row.children_0_3,
        places=int(row.places),
        inclusive_places=int(row.inclusive_places),
        places_per_1000=round(row.places * 1000 / row.residents, 2),
        places_per_100_children=round(row.places * 100 / row.children_0_3, 2) if row.children_0_3 else None,
        target_places=target,
        gap=max(0, target - int(row.places)),
        center_lat=getattr(row, "center_lat", None),
        center_lng=getattr(row, "center_lng", None),
    )


async def supply_gap(db: AsyncSession, p: Principal) -> SupplyGap:
    codes = unit_codes(p)
    if codes is None:
        codes = frozenset(c for (c,) in await db.execute(text("SELECT code FROM units")))
    params = {"units": sorted(codes)}
    units = [_area(r, street=None, approximate=r.approximate) for r in await db.execute(text(_UNITS_SQL), params)]
    streets = [_area(r, street=r.street, approximate=False) for r in await db.execute(text(_STREETS_SQL), params)]
    streets.sort(key=lambda a: (-a.gap, a.places_per_1000, a.unit_code, a.street or ""))
    return SupplyGap(target_per_1000=TARGET_PER_1000, units=units, streets=streets)


CSV_COLUMNS = {
    "unit_code": "区县代码",
    "unit": "区县",
    "street": "街道（乡镇）/社区",
    "year": "人口年份",
    "approximate": "人口为估算",
    "residents": "常住人口",
    "children_0_3": "0-3岁婴幼儿数",
    "places": "托位数",
    "inclusive_places": "普惠托位数",
    "places_per_1000": "每千人口托位数",
    "places_per_100_children": "每百名婴幼儿托位数",
    "target_places": "目标托位数（每千人4.5个）",
    "gap": "托位缺口",
}


def to_csv(data: SupplyGap) -> bytes:
    """Units, then streets neediest first; Chinese headers; UTF-8 with BOM (opens in Excel)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS.values())
    for area in [*data.units, *data.streets]:
        values = msgspec.structs.asdict(area)
        writer.writerow(
            ("是" if values[k] else "否") if k == "approximate" else ("" if values[k] is None else values[k])
            for k in CSV_COLUMNS
        )
    return out.getvalue().encode("utf-8-sig")
