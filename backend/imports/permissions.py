"""Declared rules for imports and exports of the registers.

* City admins, and officers of the health commission (卫健委) with a city-wide grant, import: dry run,
  read reports and history, apply, export. Rooms and population lists come to the health commission
  from the trade union, the women's federation and the statistics bureau, so the same people load them.
* Any other officer (another department, or a unit grant: a register spans units): 403, the same for
  every import, so the answer never depends on an object.
* Everyone else: 403 (anonymous: 401).
"""

from __future__ import annotations

from backend.core.authz import Principal, Role, action
from backend.core.errors import Forbidden

IMPORTERS = {Role.OFFICER, Role.CITY_ADMIN}
DEPARTMENT = "health"

DRY_RUN = action("imports.dry_run", "upload a register and check it (dry run)", roles=IMPORTERS)
READ = action("imports.read", "read import reports and the import history", roles=IMPORTERS)
APPLY = action("imports.apply", "apply a checked import", roles=IMPORTERS)
EXPORT = action("imports.export", "export a register as a spreadsheet", roles=IMPORTERS)


def may_import(p: Principal) -> bool:
    return p.is_city_admin or any(dept == DEPARTMENT and unit is None for dept, unit in p.officer_scopes())


def require_importer(p: Principal) -> None:
    if not may_import(p):
        raise Forbidden(
            "Only city admins and city-wide health commission officers import registers",
            detail_zh="只有市级管理员和市卫健委工作人员可以导入或导出名单",
            code="forbidden",
        )
