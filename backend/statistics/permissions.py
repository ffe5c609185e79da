"""Declared rules for statistics (统计监测).

* City admins see every unit and the city-wide figures.
* Officers (any department: the figures are aggregates without personal data) see the units of
  their grants: a city-wide grant (no unit) gives every unit and the city-wide figures, a unit grant
  only that unit's figures (never the city-wide totals, which include other units).
* Everyone else: 403 (anonymous: 401).

The scope is a condition on ``units.code``: the units whose figures the principal may read.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from backend.core.authz import Principal, Role, action
from backend.government.models import Unit

VIEWERS = {Role.OFFICER, Role.CITY_ADMIN}


def sees_city(p: Principal) -> bool:
    """Whether ``p`` sees the whole city (city admin, or an officer grant without a unit)."""
    return p.is_city_admin or any(unit is None for _, unit in p.officer_scopes())


def unit_codes(p: Principal) -> frozenset[int] | None:
    """The units ``p`` may see; ``None`` means all of them."""
    if sees_city(p):
        return None
    return frozenset(unit for _, unit in p.officer_scopes() if unit is not None)


def _units(p: Principal) -> ColumnElement[bool]:
    codes = unit_codes(p)
    if codes is None:
        return true()
    return Unit.code.in_(sorted(codes)) if codes else false()


VIEW = action("statistics.view", "see the statistics against the plan's targets", roles=VIEWERS, scope=_units)
EXPORT = action("statistics.export", "download the statistics as CSV", roles=VIEWERS, scope=_units)
