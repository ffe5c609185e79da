"""Declared rules for hourly and temporary care."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from backend.bookings.models import Booking
from backend.core.authz import Principal, Role, action
from backend.families.models import Guardianship
from backend.institutions.models import Institution

STAFF_ROLES = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN, Role.CITY_ADMIN}


def _guardian_of(p: Principal) -> ColumnElement[bool]:
    return Booking.child_id.in_(select(Guardianship.child_id).where(Guardianship.account_id == p.account_id))


def _staff_of_booking(p: Principal) -> ColumnElement[bool]:
    return true() if p.is_city_admin else Booking.institution_id.in_(p.institutions())


def _staff_of_institution(p: Principal) -> ColumnElement[bool]:
    return true() if p.is_city_admin else Institution.id.in_(p.institutions())


VIEW_SLOTS = action("slots.view", "see free places per slot", roles=None)
PUBLISH_SLOTS = action("slots.publish", "publish bookable slots", roles=STAFF_ROLES, scope=_staff_of_institution)
BOOK = action("bookings.create", "book hourly or temporary care", roles={Role.PARENT})
LIST_MINE = action("bookings.list_mine", "list your bookings", roles={Role.PARENT}, scope=_guardian_of)
READ = action("bookings.read", "read a booking", roles={Role.PARENT}, scope=_guardian_of)
CANCEL = action("bookings.cancel", "cancel a booking", roles={Role.PARENT}, scope=_guardian_of)
LIST_INSTITUTION = action(
    "bookings.list_institution", "list an institution's bookings", roles=STAFF_ROLES, scope=_staff_of_institution
)
CANCEL_BY_INSTITUTION = action(
    "bookings.cancel_by_institution",
    "cancel a booking on the institution's side, with a reason (the family is told at once)",
    roles=STAFF_ROLES,
    scope=_staff_of_booking,
)
MARK_ATTENDANCE = action("bookings.attendance", "mark attendance", roles=STAFF_ROLES, scope=_staff_of_booking)
