"""Declared rules for quality assessments.

* Health officers (department ``health``) of the institution's unit, city-wide health officers and
  city admins record assessments, edit and delete drafts, publish them and follow up rectification
  items. Any other officer (another department, another unit) sees nothing: 404 on objects, empty lists.
* The institution's staff and admins read their institution's *published* assessments with the
  rectification items (not drafts), and post a response note on an item.
* Everyone reads the published history of an institution and the list of dimensions.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from backend.assessments.models import Assessment
from backend.core.authz import Principal, Role, action
from backend.institutions.models import Institution

DEPARTMENT = "health"
OFFICERS = {Role.OFFICER, Role.CITY_ADMIN}
STAFF = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN}


def health_units(p: Principal) -> tuple[bool, frozenset[int]]:
    """(acts city-wide, units acted on) for ``p`` as an assessor."""
    if p.is_city_admin:
        return True, frozenset()
    units = p.officer_units(DEPARTMENT)
    return None in units, frozenset(u for u in units if u is not None)


def officer_institutions(p: Principal) -> ColumnElement[bool]:
    """Institutions ``p`` may assess (a condition on ``Institution``)."""
    everywhere, units = health_units(p)
    if everywhere:
        return true()
    return Institution.unit_code.in_(units) if units else false()


def officer_assessments(p: Principal) -> ColumnElement[bool]:
    """Assessments ``p`` manages (a condition on ``Assessment``)."""
    everywhere, units = health_units(p)
    if everywhere:
        return true()
    if not units:
        return false()
    return Assessment.institution_id.in_(select(Institution.id).where(Institution.unit_code.in_(units)))


def staff_assessments(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    if not institutions:
        return false()
    return and_(Assessment.institution_id.in_(institutions), Assessment.status == "published")


def readable(p: Principal) -> ColumnElement[bool]:
    return or_(officer_assessments(p), staff_assessments(p))


DIMENSIONS = action("assessments.dimensions", "see the assessment dimensions", roles=None)
PUBLIC_HISTORY = action("assessments.public_history", "see an institution's published assessments", roles=None)
CREATE = action("assessments.create", "record a quality assessment", roles=OFFICERS, scope=officer_institutions)
LIST = action("assessments.list", "list quality assessments", roles=OFFICERS | STAFF, scope=readable)
READ = action("assessments.read", "read a quality assessment", roles=OFFICERS | STAFF, scope=readable)
UPDATE = action("assessments.update", "edit a draft assessment", roles=OFFICERS, scope=officer_assessments)
DELETE = action("assessments.delete", "delete a draft assessment", roles=OFFICERS, scope=officer_assessments)
PUBLISH = action("assessments.publish", "publish an assessment", roles=OFFICERS, scope=officer_assessments)
FOLLOW_UP = action("assessments.follow_up", "follow up a rectification item", roles=OFFICERS, scope=officer_assessments)
RESPOND = action(
    "assessments.respond", "answer a rectification item for your institution", roles=STAFF, scope=staff_assessments
)
