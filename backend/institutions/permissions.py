"""Declared rules for the institution registry."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from backend.core.authz import Principal, Role, action
from backend.institutions.models import Institution


def _admin_of(p: Principal) -> ColumnElement[bool]:
    if p.is_city_admin:
        return true()
    return Institution.id.in_(p.institutions(Role.INSTITUTION_ADMIN))


def _staff_of(p: Principal) -> ColumnElement[bool]:
    if p.is_city_admin:
        return true()
    return Institution.id.in_(p.institutions(Role.INSTITUTION_ADMIN, Role.INSTITUTION_STAFF))


LIST = action("institutions.list", "list institutions", roles=None)
NEARBY = action("institutions.nearby", "search institutions near a point", roles=None)
READ = action("institutions.read", "read an institution", roles=None)
CREATE = action("institutions.create", "register an institution", roles={Role.CITY_ADMIN})
UPDATE = action(
    "institutions.update",
    "edit an institution's profile",
    roles={Role.INSTITUTION_ADMIN, Role.CITY_ADMIN},
    scope=_admin_of,
)
MANAGE_MODES = action(
    "institutions.manage_modes",
    "change an institution's service modes and prices",
    roles={Role.INSTITUTION_ADMIN, Role.CITY_ADMIN},
    scope=_admin_of,
)
MANAGE_CLASSES = action(
    "institutions.manage_classes",
    "change an institution's classes, capacities and carers",
    roles={Role.INSTITUTION_ADMIN, Role.INSTITUTION_STAFF, Role.CITY_ADMIN},
    scope=_staff_of,
)
SET_COVER = action(
    "institutions.set_cover",
    "set or remove an institution's cover photo",
    roles={Role.INSTITUTION_ADMIN, Role.INSTITUTION_STAFF, Role.CITY_ADMIN},
    scope=_staff_of,
)
