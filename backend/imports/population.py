"""Population by area (statistics bureau): residents and children aged 0-3, per unit or per street /
community, per year. A row without a street is the unit's figure. Matched by (unit, street, year):
a re-import of a corrected file updates the figures in place.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.config import Settings
from backend.government.models import Unit
from backend.imports.crs import Crs
from backend.imports.institutions import match_unit
from backend.imports.models import PopulationArea
from backend.imports.pipeline import Column, Row, Spec, parse_int, parse_text

COLUMNS = (
    Column("unit", "区县", ("所属区县", "县区", "地区", "行政区"), required=True),
    Column("street", "街道（乡镇）/社区", ("街道", "乡镇", "街道乡镇", "乡镇街道", "社区", "街道/社区", "街道社区")),
    Column("year", "年份", ("统计年度", "年度", "统计年份"), required=True),
    Column("residents", "常住人口", ("常住人口数", "总人口", "人口数", "人口"), required=True),
    Column("children_0_3", "0-3岁婴幼儿数", ("0-3岁人口", "0至3岁婴幼儿数", "0-3岁儿童数", "3岁以下婴幼儿数",
                                       "0~3岁婴幼儿数", "婴幼儿数"), required=True),
)  # fmt: skip


@dataclass(slots=True)
class PopulationRow:
    number: int
    unit_code: int
    street: str
    year: int
    residents: int
    children_0_3: int
    id: Any  # None: new
    changed: bool


class PopulationSpec(Spec):
    kind = "population"
    label_zh = "人口"
    columns = COLUMNS

    def __init__(self, settings: Settings | None = None, geocoder: Any = None) -> None:
        self.settings = settings

    async def check(self, db: AsyncSession, rows: list[Row], crs: Crs) -> tuple[list[Any], dict[str, int]]:
        units = [(c, n) for c, n in (await db.execute(select(Unit.code, Unit.name_zh).order_by(Unit.sort_order)))]
        existing = {(p.unit_code, p.street, p.year): p for p in (await db.execute(select(PopulationArea))).scalars()}
        this_year = dt.date.today().year
        seen: dict[tuple[int, str, int], int] = {}
        parsed: list[PopulationRow] = []
        for row in rows:
            unit_code = match_unit(row.get("unit"), units)
            if unit_code is None:
                row.error("unknown_unit", "“区县”不是大庆市的区县（如“萨尔图区”“肇州县”）", "区县")
            self.check_unit(row, unit_code, "区县")
            street = parse_text(row, "street", "街道（乡镇）/社区", max_len=60, required=False)
            year_text = re.sub(r"年$", "", unicodedata.normalize("NFKC", row.get("year")).strip())
            row.values["year"] = year_text
            year = parse_int(row, "year", "年份", low=2000, high=this_year)
            residents = parse_int(row, "residents", "常住人口", low=1, high=20_000_000)
            children = parse_int(row, "children_0_3", "0-3岁婴幼儿数", low=0, high=2_000_000)
            if residents is not None and children is not None and children > residents:
                row.error("children_exceed_residents", "0-3岁婴幼儿数不能大于常住人口", "0-3岁婴幼儿数")
            if not row.ok or unit_code is None or year is None or residents is None or children is None:
                continue
            key = (unit_code, street, year)
            if key in seen:
                row.error("duplicate_in_file", f"与第{seen[key]}行是同一地区同一年份", "街道（乡镇）/社区")
                continue
            seen[key] = row.number
            if residents and children / residents > 0.2:
                row.warn("unusual_share", "0-3岁婴幼儿占常住人口比例异常偏高，请核对", "0-3岁婴幼儿数")
            current = existing.get(key)
            changed = current is not None and (current.residents, current.children_0_3) != (residents, children)
            parsed.append(
                PopulationRow(
                    row.number, unit_code, street, year, residents, children, current.id if current else None, changed
                )
            )
        counts = {
            "create": sum(p.id is None for p in parsed),
            "update": sum(p.changed for p in parsed),
            "unchanged": sum(p.id is not None and not p.changed for p in parsed),
        }
        return parsed, counts

    async def apply(self, db: AsyncSession, parsed: list[PopulationRow], actor: Any) -> None:
        new = [
            {"unit_code": p.unit_code, "street": p.street, "year": p.year, "residents": p.residents,
             "children_0_3": p.children_0_3}
            for p in parsed if p.id is None
        ]  # fmt: skip
        if new:
            await db.execute(pg_insert(PopulationArea), new)
        for p in parsed:
            if p.changed:
                await db.execute(
                    update(PopulationArea)
                    .where(PopulationArea.id == p.id)
                    .values(residents=p.residents, children_0_3=p.children_0_3, updated_at=dt.datetime.now(dt.UTC))
                )

    async def export(self, db: AsyncSession, crs: Crs) -> tuple[list[str], list[list[str]]]:
        rows = await db.execute(
            select(Unit.name_zh, PopulationArea.street, PopulationArea.year, PopulationArea.residents,
                   PopulationArea.children_0_3)
            .join(Unit, Unit.code == PopulationArea.unit_code)
            .order_by(PopulationArea.year, Unit.sort_order, PopulationArea.street)
        )  # fmt: skip
        return [c.header for c in COLUMNS], [[u, s, str(y), str(r), str(c)] for u, s, y, r, c in rows]
