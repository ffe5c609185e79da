"""Declared rules for children's health records.

* Guardians see and set their own children's health profile (consent, sex) and growth chart.
* An institution's staff and admins record and read the health data of children holding a place
  there (an ``accepted`` or ``enrolled`` application), and work the institution's follow-up items.
* Officers and the city admin see aggregates only (the statistics); no route here admits them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select

from backend.childhealth.models import HealthFollowUp
from backend.core.authz import Principal, Role, action
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship

STAFF = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN}
IN_CARE = ("accepted", "enrolled")


def _own_children(p: Principal) -> ColumnElement[bool]:
    return Child.id.in_(select(Guardianship.child_id).where(Guardianship.account_id == p.account_id))


def children_in_care(p: Principal) -> ColumnElement[bool]:
    """Children holding a place at one of the principal's institutions."""
    institutions = p.institutions()
    if not institutions:
        return false()
    return Child.id.in_(
        select(Application.child_id).where(
            Application.institution_id.in_(institutions), Application.status.in_(IN_CARE)
        )
    )


def _institution_follow_ups(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    return HealthFollowUp.institution_id.in_(institutions) if institutions else false()


PROFILE = action(
    "childhealth.profile", "set your child's health profile and consent", roles={Role.PARENT}, scope=_own_children
)
CHART = action("childhealth.chart", "see your child's growth chart", roles={Role.PARENT}, scope=_own_children)
RECORD_GROWTH = action(
    "childhealth.record_growth", "record a child's growth measurement", roles=STAFF, scope=children_in_care
)
READ_GROWTH = action("childhealth.read_growth", "read a child's growth record", roles=STAFF, scope=children_in_care)
FOLLOW_UPS = action(
    "childhealth.follow_ups",
    "list your institution's health follow-up items",
    roles=STAFF,
    scope=_institution_follow_ups,
)
CLOSE_FOLLOW_UP = action(
    "childhealth.close_follow_up", "close a health follow-up item", roles=STAFF, scope=_institution_follow_ups
)
