"""Declared rules for the blacklist.

* The institution part of the list (entries in force) is public.
* Managing (listing every entry, adding, revoking, checking an ID number): officers of the health
  department (市卫健委 and the county/district health commissions) and of the police (child abuse is
  zero tolerance), and the city admin.
  - Institution entries: city-wide officers everywhere; unit officers for institutions of their unit.
  - Person entries: any health or police officer (a person is not tied to one unit: whoever learns
    of a decision records it, and every institution of the city is bound by it).
* Person entries (names, masked ID numbers) are never public.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true

from backend.blacklist.models import BlacklistEntry
from backend.core.authz import Principal, Role, action
from backend.institutions.models import Institution

MANAGING_DEPARTMENTS = ("health", "police")
MANAGERS = {Role.OFFICER, Role.CITY_ADMIN}


def _units(p: Principal) -> tuple[bool, set[int]]:
    """(city-wide?, the units) over the principal's managing-department grants."""
    city_wide, units = p.is_city_admin, set()
    for department, unit in p.officer_scopes():
        if department in MANAGING_DEPARTMENTS:
            if unit is None:
                city_wide = True
            else:
                units.add(unit)
    return city_wide, units


def is_manager(p: Principal) -> bool:
    city_wide, units = _units(p)
    return city_wide or bool(units)


def managed_entries(p: Principal) -> ColumnElement[bool]:
    """Entries ``p`` may see and revoke."""
    city_wide, units = _units(p)
    if city_wide:
        return true()
    if not units:
        return false()
    return or_(
        BlacklistEntry.kind == "person",
        BlacklistEntry.institution_id.in_(select(Institution.id).where(Institution.unit_code.in_(sorted(units)))),
    )


def managed_institutions(p: Principal) -> ColumnElement[bool]:
    """Institutions ``p`` may blacklist."""
    city_wide, units = _units(p)
    if city_wide:
        return true()
    return Institution.unit_code.in_(sorted(units)) if units else false()


def person_entries(p: Principal) -> ColumnElement[bool]:
    """Person entries ``p`` may add and check against."""
    return BlacklistEntry.kind == "person" if is_manager(p) else false()


PUBLIC_LIST = action("blacklist.public_list", "see the blacklisted institutions", roles=None)
LIST = action("blacklist.list", "list blacklist entries", roles=MANAGERS, scope=managed_entries)
ADD_INSTITUTION = action(
    "blacklist.add_institution", "blacklist an institution", roles=MANAGERS, scope=managed_institutions
)
ADD_PERSON = action("blacklist.add_person", "blacklist a person", roles=MANAGERS, scope=person_entries)
REVOKE = action("blacklist.revoke", "revoke a blacklist entry", roles=MANAGERS, scope=managed_entries)
CHECK = action("blacklist.check", "check an ID number against the blacklist", roles=MANAGERS, scope=person_entries)
