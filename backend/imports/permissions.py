"""Declared rules for imports and exports of the registers.

* City admins, and officers of the health commission (卫健委) with a city-wide grant, import every
  register, read every run and export. Rooms and population lists come to the health commission from
  the trade union, the women's federation and the statistics bureau, so the same people load them.
* Health officers with a unit grant import institutions and population of their unit(s) only (a row
  of another unit, or an institution registered in another unit, is a row error), and see only the
  runs they uploaded (another's run: 404). Rooms and exports are city-wide: 403 for them.
* Any other officer (another department): 403, the same for every import.
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


UNIT_KINDS = ("institutions", "population")  # what a unit's health officer may import


def _refuse() -> Forbidden:
    return Forbidden(
        "Only city admins and health commission officers import registers",
        detail_zh="只有市级管理员和卫健委工作人员可以导入名单（区县工作人员只能导入本区县的机构和人口数据）",
        code="forbidden",
    )


def city_wide(p: Principal) -> bool:
    return p.is_city_admin or any(dept == DEPARTMENT and unit is None for dept, unit in p.officer_scopes())


def health_units(p: Principal) -> frozenset[int]:
    return frozenset(unit for unit in p.officer_units(DEPARTMENT) if unit is not None)


def require_importer(p: Principal) -> None:
    """Any importer (city-wide or of a unit): for the history and runs (then scoped by ``own_runs_only``)."""
    if not city_wide(p) and not health_units(p):
        raise _refuse()


def require_city_wide(p: Principal) -> None:
    if not city_wide(p):
        raise _refuse()


def import_units(p: Principal, kind: str) -> frozenset[int] | None:
    """The units ``p`` may import ``kind`` for: None means every unit."""
    if city_wide(p):
        return None
    units = health_units(p)
    if not units or kind not in UNIT_KINDS:
        raise _refuse()
    return units


def own_runs_only(p: Principal) -> bool:
    return not city_wide(p)
