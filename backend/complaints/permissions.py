"""Declared rules for complaints.

* Anyone files (signed in or not), and anyone holding a tracking code follows that complaint.
* A signed-in reporter sees the complaints they filed (never anonymous ones: those keep no account).
* Officers see and work the complaints routed to their department — city-wide officers all of them,
  unit officers those of their unit (or with no unit yet); city admins all.
* An institution's staff see complaints about their institution once accepted, without the
  reporter's identity or contact details.
* Open311 and the public figures are open; Open311 filing needs a registered client's api_key.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true

from backend.complaints.models import Complaint
from backend.core.authz import Principal, Role, action

SIGNED_IN = set(Role)
DESK_ROLES = {Role.OFFICER, Role.CITY_ADMIN}
STAFF_ROLES = {Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN}


def _reporter(p: Principal) -> ColumnElement[bool]:
    return Complaint.reporter_id == p.account_id


def routed_to(p: Principal) -> ColumnElement[bool]:
    """Complaints routed to one of ``p``'s departments (the same rule as the events' audience)."""
    if p.is_city_admin:
        return true()
    conds = []
    for department, unit in p.officer_scopes():
        dept = Complaint.department_codes.contains([department])
        conds.append(
            dept if unit is None else and_(dept, or_(Complaint.unit_code.is_(None), Complaint.unit_code == unit))
        )
    return or_(*conds) if conds else false()


def _institution_staff(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    if not institutions:
        return false()
    return and_(Complaint.institution_id.in_(institutions), Complaint.accepted_at.is_not(None))


FILE = action("complaints.file", "file a complaint", roles=None)
TRACK = action("complaints.track", "follow a complaint by its tracking code", roles=None)
# The tracking code authorises (as for following): the reporter adds photos that could not be stored.
ADD_PHOTOS = action("complaints.add_photos", "add photos to a complaint by its tracking code", roles=None)
FIGURES = action("complaints.figures", "see the public complaint figures", roles=None)
CATEGORIES = action("complaints.categories", "list complaint categories", roles=None)
LIST_MINE = action("complaints.list_mine", "list the complaints you filed", roles=SIGNED_IN, scope=_reporter)
READ_MINE = action("complaints.read_mine", "read a complaint you filed", roles=SIGNED_IN, scope=_reporter)
INSTITUTION_LIST = action(
    "complaints.institution_list",
    "list accepted complaints about your institution",
    roles=STAFF_ROLES,
    scope=_institution_staff,
)
INSTITUTION_READ = action(
    "complaints.institution_read",
    "read an accepted complaint about your institution",
    roles=STAFF_ROLES,
    scope=_institution_staff,
)
DESK = action("complaints.desk", "see your department's complaint queue", roles=DESK_ROLES, scope=routed_to)
DESK_READ = action("complaints.desk_read", "read a complaint routed to you", roles=DESK_ROLES, scope=routed_to)
TRANSITION = action("complaints.transition", "change a complaint's status", roles=DESK_ROLES, scope=routed_to)
NOTE = action("complaints.note", "add a note to a complaint", roles=DESK_ROLES, scope=routed_to)
SIMILAR = action("complaints.similar", "see possible duplicates", roles=DESK_ROLES, scope=routed_to)
MERGE = action("complaints.merge", "merge a duplicate complaint", roles=DESK_ROLES, scope=routed_to)
OPEN311 = action("open311.use", "use the Open311 GeoReport v2 API", roles=None)
