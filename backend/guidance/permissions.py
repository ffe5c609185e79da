"""Declared rules for parenting guidance (育儿指导).

* Anyone (signed in or not) browses upcoming events and sees the places left.
* Parents register (for themselves, optionally naming one of their children), see and cancel their
  own registrations.
* Hosts manage events: an institution's staff and admins those their institution hosts; health
  officers (department ``health``) those hosted by health centres — unit officers in their unit,
  city-wide officers everywhere; the city admin all.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true

from backend.core.authz import Principal, Role, action
from backend.guidance.models import GuidanceEvent, GuidanceRegistration

HEALTH = "health"
HOST_ROLES = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN, Role.OFFICER, Role.CITY_ADMIN}


def health_units(p: Principal) -> list[int | None]:
    """The units ``p`` acts in as a health officer (None: city-wide)."""
    return p.officer_units(HEALTH)


def hosted_by(p: Principal) -> ColumnElement[bool]:
    """The events ``p`` hosts: those of their institutions, and health-centre events of their units."""
    if p.is_city_admin:
        return true()
    conds: list[ColumnElement[bool]] = []
    institutions = p.institutions()
    if institutions:
        conds.append(GuidanceEvent.host_institution_id.in_(institutions))
    units = health_units(p)
    if None in units:
        conds.append(GuidanceEvent.host_institution_id.is_(None))
    elif units:
        conds.append(and_(GuidanceEvent.host_institution_id.is_(None), GuidanceEvent.unit_code.in_(units)))
    return or_(*conds) if conds else false()


def _own(p: Principal) -> ColumnElement[bool]:
    return GuidanceRegistration.account_id == p.account_id


BROWSE = action("guidance.browse", "browse parenting guidance events", roles=None)
PUBLISH = action("guidance.publish", "publish a parenting guidance event", roles=HOST_ROLES, scope=hosted_by)
REGISTER = action("guidance.register", "register for a parenting guidance event", roles={Role.PARENT})
LIST_MINE = action("guidance.list_mine", "list your guidance registrations", roles={Role.PARENT}, scope=_own)
READ_MINE = action("guidance.read_mine", "read your guidance registration", roles={Role.PARENT}, scope=_own)
CANCEL_MINE = action("guidance.cancel_mine", "cancel your guidance registration", roles={Role.PARENT}, scope=_own)
HOSTED = action("guidance.hosted", "list the guidance events you host", roles=HOST_ROLES, scope=hosted_by)
HOSTED_READ = action(
    "guidance.hosted_read", "see a hosted event with its registrations", roles=HOST_ROLES, scope=hosted_by
)
CANCEL_EVENT = action("guidance.cancel_event", "cancel a guidance event you host", roles=HOST_ROLES, scope=hosted_by)
ATTENDANCE = action(
    "guidance.attendance", "mark attendance at a guidance event you host", roles=HOST_ROLES, scope=hosted_by
)
