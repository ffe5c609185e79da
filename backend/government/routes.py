"""Public reference data: Daqing's units and the departments complaints are routed to."""

from __future__ import annotations

from typing import Literal

from litestar import Controller, get
from sqlalchemy import select

from backend.core.authz import requires
from backend.core.deps import Db
from backend.core.schemas import Output
from backend.government.models import Department, Unit
from backend.government.permissions import LIST_DEPARTMENTS, LIST_UNITS


class UnitOut(Output):
    code: int
    name_zh: str
    name_en: str
    kind: Literal["district", "county", "zone"]
    population: int
    population_note: str
    center_lat: float
    center_lng: float


class DepartmentOut(Output):
    code: str
    name_zh: str
    short_zh: str
    name_en: str
    kind: Literal["city_department", "unit_government"]
    unit_code: int | None


class GovernmentController(Controller):
    path = "/api"
    tags = ["government · 行政区划与部门"]

    @get("/units", opt=requires(LIST_UNITS), summary="Daqing's units / 大庆市县区")
    async def units(self, db: Db) -> list[UnitOut]:
        rows = (await db.execute(select(Unit).order_by(Unit.sort_order))).scalars()
        return [
            UnitOut(
                code=u.code,
                name_zh=u.name_zh,
                name_en=u.name_en,
                kind=u.kind,
                population=u.population,  # type: ignore[arg-type]
                population_note=u.population_note,
                center_lat=u.center_lat,
                center_lng=u.center_lng,
            )
            for u in rows
        ]

    @get("/departments", opt=requires(LIST_DEPARTMENTS), summary="Departments / 职能部门")
    async def departments(self, db: Db) -> list[DepartmentOut]:
        rows = (await db.execute(select(Department).order_by(Department.kind, Department.code))).scalars()
        return [
            DepartmentOut(
                code=d.code,
                name_zh=d.name_zh,
                short_zh=d.short_zh,
                name_en=d.name_en,
                kind=d.kind,  # type: ignore[arg-type]
                unit_code=d.unit_code,
            )
            for d in rows
        ]
