"""Declared rules for staff rosters: an institution's admins (and the city admin) keep its roster."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from backend.core.authz import Principal, Role, action
from backend.institutions.models import Institution

ROLES = {Role.INSTITUTION_ADMIN, Role.CITY_ADMIN}


def admin_of(p: Principal) -> ColumnElement[bool]:
    """Institutions whose roster ``p`` keeps."""
    if p.is_city_admin:
        return true()
    institutions = p.institutions(Role.INSTITUTION_ADMIN)
    return Institution.id.in_(institutions) if institutions else false()


LIST = action("staff.list", "see your institution's staff roster", roles=ROLES, scope=admin_of)
ADD = action("staff.add", "add a member to your institution's staff roster", roles=ROLES, scope=admin_of)
REMOVE = action("staff.remove", "remove a member from your institution's staff roster", roles=ROLES, scope=admin_of)
