"""Public reference data: Daqing's units, the departments complaints are routed to, China's working calendar."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.openapi.spec import Tag
from litestar.params import PathParameter
from sqlalchemy import select

from backend.core import workdays
from backend.core.authz import requires
from backend.core.deps import Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.core.schemas import Output
from backend.government.models import Department, Unit
from backend.government.permissions import LIST_DEPARTMENTS, LIST_UNITS, READ_CALENDAR


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


class HolidayOut(Output):
    date: dt.date
    name_zh: str  # 春节, 国庆节, …


class CalendarOut(Output):
    year: int
    known: bool  # false: not announced or not yet in the calendar data; working days are then Mon-Fri
    holidays: list[HolidayOut]  # every day off of a public holiday period, weekends included
    makeup_working_days: list[dt.date]  # weekend days that are working days (调休上班)
    note_zh: str


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

    @get(
        "/calendar/{year:int}",
        opt=requires(READ_CALENDAR),
        responses=error_responses(400, 404),
        summary="China's working calendar for a year / 法定节假日与调休",
    )
    async def calendar(self, year: Annotated[int, PathParameter(ge=2000, le=2100)]) -> CalendarOut:
        """Public holidays and make-up working days, which every working-day time limit counts with
        (filing review, complaint acknowledgement and resolution). `known: false` for a year whose
        arrangement is not in the calendar yet: limits then count Monday to Friday."""
        c = workdays.year_calendar(year)
        return CalendarOut(
            year=year,
            known=c.known,
            holidays=[HolidayOut(date=d, name_zh=n) for d, n in c.holidays],
            makeup_working_days=c.makeup_working_days,
            note_zh="已按国务院公布的节假日安排计算工作日"
            if c.known
            else f"{year}年节假日安排尚未收录，该年工作日暂按周一至周五计算",
        )


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [GovernmentController],
    tags=[Tag(name="government · 行政区划与部门", description="Units and departments")],
)
