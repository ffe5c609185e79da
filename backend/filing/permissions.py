"""Declared rules for filing (备案).

* An institution's admins keep its dossier (documents, meals) and submit it; its staff may read it.
* Health officers review: a county/district health officer (grant OFFICER, department 'health',
  unit U) the institutions of unit U; a city-wide health officer (no unit) and city admins all of
  them. Officers of other departments see nothing (their queue is empty, a filing answers 404).

Scopes are conditions on ``Institution`` (services join the filing to its institution).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from backend.core.authz import Principal, Role, action
from backend.institutions.models import Institution

HEALTH = "health"
REVIEW_ROLES = {Role.OFFICER, Role.CITY_ADMIN}


def _admin_of(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions(Role.INSTITUTION_ADMIN)
    return Institution.id.in_(institutions) if institutions else false()


def _staff_of(p: Principal) -> ColumnElement[bool]:
    if p.is_city_admin:
        return true()
    institutions = p.institutions(Role.INSTITUTION_ADMIN, Role.INSTITUTION_STAFF)
    return Institution.id.in_(institutions) if institutions else false()


def reviewable(p: Principal) -> ColumnElement[bool]:
    """Institutions whose filing ``p`` may review: by the health grants' units (None: all)."""
    if p.is_city_admin:
        return true()
    units = set()
    for department, unit in p.officer_scopes():
        if department != HEALTH:
            continue
        if unit is None:
            return true()
        units.add(unit)
    return or_(*(Institution.unit_code == unit for unit in sorted(units))) if units else false()


READ = action(
    "filing.read",
    "read your institution's filing",
    roles={Role.INSTITUTION_ADMIN, Role.INSTITUTION_STAFF, Role.CITY_ADMIN},
    scope=_staff_of,
)
SAVE = action("filing.save", "prepare your institution's filing", roles={Role.INSTITUTION_ADMIN}, scope=_admin_of)
SUBMIT = action("filing.submit", "submit your institution's filing", roles={Role.INSTITUTION_ADMIN}, scope=_admin_of)
QUEUE = action("filing.queue", "see the filings you review", roles=REVIEW_ROLES, scope=reviewable)
REVIEW_READ = action("filing.review_read", "read a filing you review", roles=REVIEW_ROLES, scope=reviewable)
DECIDE = action("filing.decide", "approve or return a filing", roles=REVIEW_ROLES, scope=reviewable)
