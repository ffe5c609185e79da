"""The plan's two 95 % targets (seed §二) per unit and month, for the statistics.

* **Health-management rate** (健康管理率): children under 3 in care with a passed entry health check
  examined by the month's end **and** a growth measurement in the expected interval (within 3 months
  before the month's end under 12 months of age, within 6 months from 12 to 36 months), over the children
  under 3 in care.
* **Guidance rate** (科学育儿指导率): families of children under 3 in care of whom a guardian attended a
  parenting guidance event that month, over those families (a family: the set of a child's guardians).

"In care": an ``enrolled`` application (full-day or half-day) whose start date is on or before the
month's end, at an institution of the unit — today's enrolments, like occupancy (not historized). Ages
come from the encrypted birth dates, so this is computed in Python over the enrolled children (one
query each for enrolments, checks, measurements, guardians and attendance), never per unit or month.
Guidance content read in the app is not tracked yet, so only events count.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.childhealth.models import EntryHealthCheck, GrowthMeasurement
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.guidance.models import GuidanceEvent, GuidanceRegistration
from backend.institutions.models import Institution
from backend.institutions.rules import age_in_months

TARGET_PCT = 95.0
UNDER_MONTHS = 36


@dataclass(slots=True)
class Rates:
    children: int = 0
    managed: int = 0
    families: int = 0
    reached: int = 0

    def add(self, other: Rates) -> None:
        self.children += other.children
        self.managed += other.managed
        self.families += other.families
        self.reached += other.reached


def month_end(month: dt.date) -> dt.date:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def measured_in_interval(age_months: int, end: dt.date, days: list[dt.date]) -> bool:
    window = 92 if age_months < 12 else 183
    return any(end - dt.timedelta(days=window) < d <= end for d in days)


async def rates(db: AsyncSession, units: list[int], months: list[dt.date]) -> dict[tuple[int, dt.date], Rates]:
    rows = (
        await db.execute(
            select(Application.child_id, Application.start_date, Institution.unit_code, Child.birth_date)
            .join(Institution, Institution.id == Application.institution_id)
            .join(Child, Child.id == Application.child_id)
            .where(Application.status == "enrolled", Institution.unit_code.in_(units))
        )
    ).all()
    out: dict[tuple[int, dt.date], Rates] = defaultdict(Rates)
    if not rows:
        return out
    ids = [r.child_id for r in rows]
    checks: dict[uuid.UUID, list[dt.date]] = defaultdict(list)
    for child_id, day in await db.execute(
        select(EntryHealthCheck.child_id, EntryHealthCheck.examined_on).where(
            EntryHealthCheck.child_id.in_(ids), EntryHealthCheck.passed.is_(True)
        )
    ):
        checks[child_id].append(day)
    measured: dict[uuid.UUID, list[dt.date]] = defaultdict(list)
    for child_id, day in await db.execute(
        select(GrowthMeasurement.child_id, GrowthMeasurement.measured_on).where(GrowthMeasurement.child_id.in_(ids))
    ):
        measured[child_id].append(day)
    guardians: dict[uuid.UUID, frozenset[uuid.UUID]] = defaultdict(frozenset)
    for child_id, account in await db.execute(
        select(Guardianship.child_id, Guardianship.account_id).where(Guardianship.child_id.in_(ids))
    ):
        guardians[child_id] = guardians[child_id] | {account}
    first, last = months[0], month_end(months[-1])
    attended: dict[dt.date, set[uuid.UUID]] = defaultdict(set)
    accounts = {a for g in guardians.values() for a in g}
    for account, starts_at in await db.execute(
        select(GuidanceRegistration.account_id, GuidanceEvent.starts_at)
        .join(GuidanceEvent, GuidanceEvent.id == GuidanceRegistration.event_id)
        .where(
            GuidanceRegistration.status == "attended",
            GuidanceRegistration.account_id.in_(accounts),
            GuidanceEvent.starts_at >= dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), dt.UTC),
            GuidanceEvent.starts_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC),
        )
    ):
        local = starts_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date().replace(day=1)
        attended[local].add(account)
    for month in months:
        end = month_end(month)
        families: dict[int, set[frozenset[uuid.UUID]]] = defaultdict(set)
        reached: dict[int, set[frozenset[uuid.UUID]]] = defaultdict(set)
        for r in rows:
            if r.start_date > end or r.birth_date > end:
                continue
            age = age_in_months(r.birth_date, end)
            if age >= UNDER_MONTHS:
                continue
            figures = out[(r.unit_code, month)]
            figures.children += 1
            if any(d <= end for d in checks[r.child_id]) and measured_in_interval(age, end, measured[r.child_id]):
                figures.managed += 1
            family = guardians[r.child_id] or frozenset({r.child_id})
            families[r.unit_code].add(family)
            if family & attended[month]:
                reached[r.unit_code].add(family)
        for unit, fams in families.items():
            out[(unit, month)].families = len(fams)
            out[(unit, month)].reached = len(reached[unit])
    return out
