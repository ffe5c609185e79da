"""Statistics (统计监测) for city admins and officers: JSON and CSV."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.openapi.spec import Tag
from litestar.params import QueryParameter

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.statistics import permissions as P
from backend.statistics import service
from backend.statistics.export import to_csv
from backend.statistics.schemas import Overview
from backend.statistics.supply_routes import SupplyController

DESCRIPTION = """
Per unit (Daqing's ten counties and districts) and city-wide, by calendar month in local time
(Asia/Shanghai): institutions (and home-based points, kindergarten nursery classes, 普惠, 示范);
places (托位 = class capacity) by class type; places per 1,000 residents against the target of 4.5;
the share of 普惠 places; demonstration institutions against the target of at least one per unit;
the filing (备案) rate; use of hourly/temporary slots in the month; complaints filed in the month by
category and the median time to resolve those resolved in the month; families reached by parenting
guidance (distinct families attending an event that starts in the month); and today's occupancy of
full- and half-day places (offline + offered + enrolled over capacity).

**History.** Stocks are as of each month's end: institutions and classes created by then. Class
capacities and institution flags are not historized, so a past month shows the classes that existed
then *with their current capacity* and today's flags. Filing counts from the filing date.

**Who.** City admins and city-wide officers see every unit and the city-wide figures (`city`); unit
officers see their own unit only (`city` is null). `from`/`to` default to the last 12 months (the
current one included); at most 36 months. A unit you may not see answers 404 (`not_found`), an unknown one 404 (`unknown_unit`);
a malformed month answers 400, `from` after `to` (`bad_month_range`) or more than 36 months
(`month_range_too_long`) 422.

统计监测：按区县和全市、按月统计机构数、托位数、每千人口托位数（目标4.5）、普惠托位占比、示范性机构、备案率、
投诉举报及办结时长、育儿指导覆盖家庭数等。月末存量按当时已设立的班级及其现有班额计算。
""".strip()

FromMonth = Annotated[
    str | None,
    QueryParameter(
        name="from", pattern=service.MONTH_PATTERN, description="First month, YYYY-MM (default: 11 months before `to`)"
    ),
]
ToMonth = Annotated[
    str | None,
    QueryParameter(name="to", pattern=service.MONTH_PATTERN, description="Last month, YYYY-MM (default: this month)"),
]
UnitCode = Annotated[
    int | None, QueryParameter(ge=100000, le=999999, description="Only this unit, e.g. 230621 (default: all yours)")
]


class StatisticsController(Controller):
    path = "/api/statistics"
    tags = ["statistics · 统计监测"]

    @get(
        "/overview",
        opt=requires(P.VIEW),
        responses=error_responses(400, 401, 403, 404, 422),
        summary="Statistics against the plan's targets / 统计监测",
        description=DESCRIPTION,
    )
    async def overview(
        self,
        db: Db,
        caller: CallerDep,
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        unit: UnitCode = None,
    ) -> Overview:
        return await service.overview(db, caller.principal, from_month=from_month, to_month=to_month, unit=unit)

    @get(
        "/export.csv",
        opt=requires(P.EXPORT),
        responses=error_responses(400, 401, 403, 404, 422),
        summary="Statistics as CSV / 导出统计数据",
        media_type="text/csv; charset=utf-8",
    )
    async def export(
        self,
        db: Db,
        caller: CallerDep,
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        unit: UnitCode = None,
    ) -> Response[bytes]:
        """The same figures as `/overview`, as a long table: one row per area × month × metric, columns
        `month,unit_code,unit,metric,metric_zh,value,target,met` (`month` is `current` for today's
        occupancy; `unit_code` is empty for the city). UTF-8 with a byte-order mark (opens in Excel).
        按区县×月份×指标逐行导出（UTF-8 BOM，可直接用 Excel 打开）。"""
        data = await service.overview(db, caller.principal, from_month=from_month, to_month=to_month, unit=unit)
        name = f"daqing-statistics-{data.from_month}-{data.to_month}" + (f"-{unit}" if unit else "") + ".csv"
        return Response(
            to_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [StatisticsController, SupplyController],
    tags=[Tag(name="statistics · 统计监测", description="Figures per unit and month against the plan's targets")],
)
