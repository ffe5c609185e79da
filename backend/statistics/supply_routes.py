"""The supply gap over HTTP: JSON for the officer console's map and table, and CSV."""

from __future__ import annotations

from litestar import Controller, Response, get

from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.errors import error_responses
from backend.statistics import permissions as P
from backend.statistics import supply

DESCRIPTION = """
Per unit (the ones you may see) and per street / community with imported population figures:
places and 普惠 places, residents and children aged 0-3 (the latest imported year; a unit without
imported figures uses the approximate demo population, `approximate: true`), places per 1,000
residents against the target of 4.5, places per 100 children aged 0-3, and the gap in places to the
target. `streets` are ranked neediest first (largest gap).

托位缺口：按区县和街道统计每千人口托位数（目标4.5）、每百名0-3岁婴幼儿托位数、普惠托位数及距目标的托位缺口。
""".strip()


class SupplyController(Controller):
    path = "/api/statistics/supply"
    tags = ["statistics · 统计监测"]

    @get(
        "/",
        opt=requires(P.VIEW),
        responses=error_responses(401, 403),
        summary="The supply gap by unit and street / 托位缺口",
        description=DESCRIPTION,
    )
    async def supply_gap(self, db: Db, caller: CallerDep) -> supply.SupplyGap:
        return await supply.supply_gap(db, caller.principal)

    @get(
        "/export.csv",
        opt=requires(P.EXPORT),
        responses=error_responses(401, 403),
        summary="The supply gap as CSV / 导出托位缺口",
        media_type="text/csv; charset=utf-8",
    )
    async def export(self, db: Db, caller: CallerDep) -> Response[bytes]:
        """Units, then streets neediest first, with Chinese headers (UTF-8 with BOM)."""
        data = await supply.supply_gap(db, caller.principal)
        return Response(
            supply.to_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="daqing-supply-gap.csv"',
                "Cache-Control": "no-store",
            },
        )
