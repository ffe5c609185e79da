"""Declared rules for parent committees.

* The institution's current parents, its staff and city admins see who is on the committee.
* Institution admins appoint members, end memberships and record election results.
* A committee member acts as one only while their term runs *and* they are still a current parent
  of the institution (a parent whose child has left loses the rights with the child's place).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, true

from backend.committees.models import CommitteeMember
from backend.core.authz import Principal, Role, action
from backend.core.clock import local_today
from backend.enrolment.links import is_current_parent, placed_institutions
from backend.institutions.models import Institution

STAFF = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN, Role.CITY_ADMIN}
EVERYONE_SIGNED_IN = {Role.PARENT, *STAFF}


def sitting_institutions(account_id: uuid.UUID) -> Select[Any]:
    """The institutions on whose committee the account sits today while still one of its parents."""
    today = local_today()
    return select(CommitteeMember.institution_id).where(
        CommitteeMember.account_id == account_id,
        CommitteeMember.ended_at.is_(None),
        CommitteeMember.term_start <= today,
        CommitteeMember.term_end >= today,
        CommitteeMember.institution_id.in_(placed_institutions(account_id)),
    )


def _staff_of(p: Principal, *roles: Role) -> ColumnElement[bool]:
    return true() if p.is_city_admin else Institution.id.in_(p.institutions(*roles))


def _sees_committee(p: Principal) -> ColumnElement[bool]:
    return or_(_staff_of(p), is_current_parent(p.account_id, Institution.id))


def _admin_of(p: Principal) -> ColumnElement[bool]:
    return Institution.id.in_(p.institutions(Role.INSTITUTION_ADMIN))


READ = action("committee.read", "see the parent committee", roles=EVERYONE_SIGNED_IN, scope=_sees_committee)
CANDIDATES = action(
    "committee.candidates",
    "list the parents who may join the committee",
    roles={Role.INSTITUTION_ADMIN},
    scope=_admin_of,
)
APPOINT = action("committee.appoint", "appoint a committee member", roles={Role.INSTITUTION_ADMIN}, scope=_admin_of)
END = action("committee.end", "end a committee membership", roles={Role.INSTITUTION_ADMIN}, scope=_admin_of)
ELECTION = action("committee.election", "record a committee election", roles={Role.INSTITUTION_ADMIN}, scope=_admin_of)
