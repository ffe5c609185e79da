"""Declared rules for children's health records.

* Guardians see and set their own children's health profile (consent, sex) and growth chart.
* An institution's staff and admins record and read the health data of children holding a place
  there (an ``accepted`` or ``enrolled`` application), and work the institution's follow-up items.
* Staff and admins run their classes' daily health checks (晨午检).
* Cluster alerts (counts, no child data) are seen by the institution's staff and by health officers of
  the institution's unit (city-wide ones everywhere) and the city admin. Only there may a health officer
  (or the city admin) open the children's checks behind an alert, giving a reason that is audited.
* Otherwise officers and the city admin see aggregates only (the statistics).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true

from backend.childhealth.models import HealthClusterAlert, HealthFollowUp
from backend.core.authz import Principal, Role, action
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.institutions.models import CareClass, Institution

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


def _own_classes(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    return CareClass.institution_id.in_(institutions) if institutions else false()


def _health_officer_alerts(p: Principal) -> ColumnElement[bool]:
    if p.is_city_admin:
        return true()
    units = p.officer_units("health")
    if None in units:
        return true()
    return HealthClusterAlert.unit_code.in_([u for u in units if u is not None]) if units else false()


def _cluster_alerts(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    own = HealthClusterAlert.institution_id.in_(institutions) if institutions else false()
    return or_(own, _health_officer_alerts(p))


CLASS_CHECKS = action("childhealth.class_checks", "see a class's daily health checks", roles=STAFF, scope=_own_classes)
RECORD_CHECK = action(
    "childhealth.record_check", "record a child's daily health check", roles=STAFF, scope=_own_classes
)
CLUSTERS = action(
    "childhealth.clusters",
    "list health cluster alerts",
    roles=STAFF | {Role.OFFICER, Role.CITY_ADMIN},
    scope=_cluster_alerts,
)
CLUSTER_ACCESS = action(
    "childhealth.cluster_access",
    "open the checks behind a cluster alert, with a reason",
    roles={Role.OFFICER, Role.CITY_ADMIN},
    scope=_health_officer_alerts,
)


def _own_institutions(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    return Institution.id.in_(institutions) if institutions else false()


def _admin_institutions(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions(Role.INSTITUTION_ADMIN)
    return Institution.id.in_(institutions) if institutions else false()


ENTRY_MINE = action(
    "childhealth.entry_mine", "hand in your child's entry health check report", roles={Role.PARENT}, scope=_own_children
)
RECORDS_MINE = action(
    "childhealth.records_mine",
    "see your child's entry and vaccination checks",
    roles={Role.PARENT},
    scope=_own_children,
)
RECORD_ENTRY = action(
    "childhealth.record_entry", "record a child's entry health check", roles=STAFF, scope=children_in_care
)
RECORD_VACCINATION = action(
    "childhealth.record_vaccination",
    "record a child's vaccination certificate check",
    roles=STAFF,
    scope=children_in_care,
)
STAFF_RECORDS = action(
    "childhealth.staff_records", "read a child's entry and vaccination checks", roles=STAFF, scope=children_in_care
)
READ_SETTING = action(
    "childhealth.read_setting", "see your institution's health settings", roles=STAFF, scope=_own_institutions
)
SET_SETTING = action(
    "childhealth.set_setting",
    "change your institution's health settings",
    roles={Role.INSTITUTION_ADMIN},
    scope=_admin_institutions,
)
