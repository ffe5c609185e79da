"""Declared rules for enrolment: parents act on their children's applications, staff on their
institution's queue."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from backend.core.authz import Principal, Role, action
from backend.enrolment.models import Application
from backend.families.models import Guardianship
from backend.institutions.models import Institution

STAFF_ROLES = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN, Role.CITY_ADMIN}


def _guardian_of(p: Principal) -> ColumnElement[bool]:
    return Application.child_id.in_(select(Guardianship.child_id).where(Guardianship.account_id == p.account_id))


def _staff_of_application(p: Principal) -> ColumnElement[bool]:
    return true() if p.is_city_admin else Application.institution_id.in_(p.institutions())


def _staff_of_institution(p: Principal) -> ColumnElement[bool]:
    return true() if p.is_city_admin else Institution.id.in_(p.institutions())


APPLY = action("applications.create", "apply for a place", roles={Role.PARENT})
LIST_MINE = action("applications.list_mine", "list your applications", roles={Role.PARENT}, scope=_guardian_of)
READ = action("applications.read", "read an application", roles={Role.PARENT}, scope=_guardian_of)
ACCEPT = action("applications.accept", "accept an offered place", roles={Role.PARENT}, scope=_guardian_of)
WITHDRAW = action("applications.withdraw", "withdraw an application", roles={Role.PARENT}, scope=_guardian_of)

DESK = action("enrolment.desk", "see the enrolment desk", roles=STAFF_ROLES, scope=_staff_of_institution)
QUEUE = action("enrolment.queue", "see the application queue", roles=STAFF_ROLES, scope=_staff_of_institution)
OFFER = action("enrolment.offer", "offer a place", roles=STAFF_ROLES, scope=_staff_of_application)
WAITLIST = action(
    "enrolment.waitlist", "put an application on the waitlist", roles=STAFF_ROLES, scope=_staff_of_application
)
REJECT = action("enrolment.reject", "reject an application", roles=STAFF_ROLES, scope=_staff_of_application)
ENROL = action("enrolment.enrol", "enrol an accepted child", roles=STAFF_ROLES, scope=_staff_of_application)
END = action("enrolment.end", "end an enrolment", roles=STAFF_ROLES, scope=_staff_of_application)
PRIORITISE = action(
    "enrolment.prioritise", "change an application's priority", roles=STAFF_ROLES, scope=_staff_of_application
)
