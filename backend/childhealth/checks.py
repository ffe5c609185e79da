"""Daily health checks (晨午检), the at-once notification of guardians when a child is sent home or
isolated, and cluster alerts (≥ 3 children of a class with the same symptom within 3 days).

What is seen (symptoms, temperature, note) is encrypted; outbox events carry ids and fixed titles only
— never a symptom, a temperature or a name — so push, SMS and WeChat texts hold no child data."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.childhealth import permissions as P
from backend.childhealth.models import DailyHealthCheck, HealthClusterAlert
from backend.childhealth.schemas import (
    ClassChecksOut,
    ClassChild,
    ClusterAccessIn,
    ClusterAccessOut,
    ClusterAlertOut,
    ClusterCheck,
    DailyCheckIn,
    DailyCheckOut,
)
from backend.core import audit, outbox
from backend.core.authz import Principal
from backend.core.clock import local_today
from backend.core.errors import NotFound, RuleViolation
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.institutions.models import CareClass, Institution
from backend.institutions.rules import age_in_months

CLUSTER_CHILDREN = 3
CLUSTER_DAYS = 3
HEALTH_DEPARTMENT = "health"
SEND_HOME_TITLE_ZH = "托育机构请您尽快联系：孩子今天的健康检查需要家长关注"
SEND_HOME_TITLE = "Please contact the nursery: today's health check needs you"
CLUSTER_TITLE_ZH = "健康聚集性提醒：同一班级3天内多名幼儿出现相同症状"
CLUSTER_TITLE = "Health cluster: several children of one class with the same symptom within 3 days"


async def _class(db: AsyncSession, p: Principal, class_id: uuid.UUID, act) -> CareClass:
    cls = await db.scalar(select(CareClass).where(CareClass.id == class_id, act.where(p)))
    if cls is None:
        raise NotFound("class")
    return cls


def _in_class(class_id: uuid.UUID):
    return select(Application.child_id).where(Application.class_id == class_id, Application.status.in_(P.IN_CARE))


def _findings(c: DailyHealthCheck) -> dict:
    return json.loads(c.findings)


def _out(c: DailyHealthCheck, alerts: list[uuid.UUID] | None = None) -> DailyCheckOut:
    f = _findings(c)
    return DailyCheckOut(
        id=c.id,
        child_id=c.child_id,
        check_date=c.check_date,
        session=c.session,  # type: ignore[arg-type]
        well=c.well,
        symptoms=f.get("symptoms", []),
        temperature_c=f.get("temperature_c"),
        note=f.get("note"),
        outcome=c.outcome,  # type: ignore[arg-type]
        cluster_alert_ids=alerts or [],
    )


def _check_body(data: DailyCheckIn) -> None:
    def refuse(message: str, zh: str, code: str) -> None:
        raise RuleViolation(message, detail_zh=zh, code=code)

    if data.well and (
        data.symptoms or data.outcome != "stay" or (data.temperature_c is not None and data.temperature_c >= 37.3)
    ):
        refuse(
            "A child present and well has no symptoms, no fever and stays",
            "“健康在园”的幼儿不应有症状或发热，也不应离园或隔离",
            "check_well_inconsistent",
        )
    if not data.well and not data.symptoms:
        refuse("Name at least one symptom", "请至少选择一项症状", "check_symptom_required")
    if "fever" in data.symptoms and data.temperature_c is None:
        refuse("A fever needs the measured temperature", "发热须填写体温", "check_temperature_required")
    if len(set(data.symptoms)) != len(data.symptoms):
        refuse("Each symptom once", "症状不能重复", "check_symptom_repeated")


async def class_checks(
    db: AsyncSession, p: Principal, class_id: uuid.UUID, day: dt.date | None, session: str
) -> ClassChecksOut:
    cls = await _class(db, p, class_id, P.CLASS_CHECKS)
    day = day or local_today()
    children = (await db.execute(select(Child).where(Child.id.in_(_in_class(cls.id))))).scalars().all()
    checks = {
        c.child_id: c
        for c in await db.scalars(
            select(DailyHealthCheck).where(
                DailyHealthCheck.class_id == cls.id,
                DailyHealthCheck.check_date == day,
                DailyHealthCheck.session == session,
            )
        )
    }
    since = day - dt.timedelta(days=CLUSTER_DAYS - 1)
    unwell = await db.execute(
        select(DailyHealthCheck.check_date, func.count(func.distinct(DailyHealthCheck.child_id)))
        .where(
            DailyHealthCheck.class_id == cls.id,
            DailyHealthCheck.check_date.between(since, day),
            DailyHealthCheck.well.is_(False),
        )
        .group_by(DailyHealthCheck.check_date)
    )
    audit.read_children(db, [c.id for c in children])
    rows = sorted(children, key=lambda c: (c.name, str(c.id)))
    return ClassChecksOut(
        class_id=cls.id,
        class_name=cls.name,
        day=day,
        session=session,  # type: ignore[arg-type]
        children=[
            ClassChild(
                child_id=c.id,
                name=c.name,
                age_months=age_in_months(c.birth_date, day),
                check=_out(checks[c.id]) if c.id in checks else None,
            )
            for c in rows
        ],
        unwell_by_day={d.isoformat(): n for d, n in unwell},
    )


async def record_check(db: AsyncSession, p: Principal, class_id: uuid.UUID, data: DailyCheckIn) -> DailyCheckOut:
    cls = await _class(db, p, class_id, P.RECORD_CHECK)
    _check_body(data)
    in_class = await db.scalar(
        select(func.count()).select_from(_in_class(cls.id).where(Application.child_id == data.child_id).subquery())
    )
    if not in_class:
        raise NotFound("child")
    day = local_today()
    findings = json.dumps(
        {"symptoms": list(data.symptoms), "temperature_c": data.temperature_c, "note": data.note}, ensure_ascii=False
    )
    check = await db.scalar(
        select(DailyHealthCheck)
        .where(
            DailyHealthCheck.child_id == data.child_id,
            DailyHealthCheck.check_date == day,
            DailyHealthCheck.session == data.session,
        )
        .with_for_update()
    )
    previous_outcome = check.outcome if check else "stay"
    if check is None:
        check = DailyHealthCheck(
            id=uuid.uuid4(),
            child_id=data.child_id,
            institution_id=cls.institution_id,
            class_id=cls.id,
            check_date=day,
            session=data.session,
        )
        db.add(check)
    check.well, check.outcome, check.findings, check.checked_by = data.well, data.outcome, findings, p.account_id
    await db.flush()
    if data.outcome != "stay" and previous_outcome == "stay":
        guardians = list(
            await db.scalars(select(Guardianship.account_id).where(Guardianship.child_id == data.child_id))
        )
        outbox.emit(
            db,
            "health_check.send_home",
            subject_type="health_check",
            subject_id=check.id,
            accounts=guardians,
            urgency="high",
            payload={"title_zh": SEND_HOME_TITLE_ZH, "title": SEND_HOME_TITLE},
        )
    alerts = [a for s in data.symptoms if (a := await _cluster(db, cls, s, day)) is not None]
    audit.read_children(db, [data.child_id])
    return _out(check, alerts)


async def _cluster(db: AsyncSession, cls: CareClass, symptom: str, day: dt.date) -> uuid.UUID | None:
    """Raise an alert when ≥ 3 children of the class had ``symptom`` within the last 3 days and no alert
    for it covers that window yet. An advisory lock per class and symptom serialises the decision."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"cluster:{cls.id}:{symptom}"}
    )
    since = day - dt.timedelta(days=CLUSTER_DAYS - 1)
    recent = await db.scalar(
        select(HealthClusterAlert.id).where(
            HealthClusterAlert.class_id == cls.id,
            HealthClusterAlert.symptom == symptom,
            HealthClusterAlert.last_day >= since,
        )
    )
    if recent is not None:
        return None
    checks = await db.scalars(
        select(DailyHealthCheck).where(
            DailyHealthCheck.class_id == cls.id,
            DailyHealthCheck.check_date.between(since, day),
            DailyHealthCheck.well.is_(False),
        )
    )
    seen: dict[uuid.UUID, dt.date] = {}
    for c in checks:
        if symptom in _findings(c).get("symptoms", []):
            seen[c.child_id] = min(seen.get(c.child_id, c.check_date), c.check_date)
    if len(seen) < CLUSTER_CHILDREN:
        return None
    unit = await db.scalar(select(Institution.unit_code).where(Institution.id == cls.institution_id))
    alert = HealthClusterAlert(
        id=uuid.uuid4(),
        institution_id=cls.institution_id,
        class_id=cls.id,
        unit_code=unit,
        symptom=symptom,
        first_day=min(seen.values()),
        last_day=day,
        child_count=len(seen),
    )
    db.add(alert)
    await db.flush()
    # To the institution's staff (its health worker, its admin) and the county's health officers.
    outbox.emit(
        db,
        "health_cluster.alert",
        subject_type="health_cluster",
        subject_id=alert.id,
        institution_id=cls.institution_id,
        departments=[HEALTH_DEPARTMENT],
        unit_code=unit,
        urgency="high",
        payload={"title_zh": CLUSTER_TITLE_ZH, "title": CLUSTER_TITLE, "symptom": symptom, "child_count": len(seen)},
    )
    return alert.id


# ---------------------------------------------------------------------------------------------- cluster alerts


def _alert_query():
    return (
        select(HealthClusterAlert, Institution.name, CareClass.name)
        .join(Institution, Institution.id == HealthClusterAlert.institution_id)
        .join(CareClass, CareClass.id == HealthClusterAlert.class_id)
    )


def _alert_out(a: HealthClusterAlert, inst_name: str, class_name: str) -> ClusterAlertOut:
    return ClusterAlertOut(
        id=a.id,
        institution_id=a.institution_id,
        institution_name=inst_name,
        class_id=a.class_id,
        class_name=class_name,
        unit_code=a.unit_code,
        symptom=a.symptom,  # type: ignore[arg-type]
        first_day=a.first_day,
        last_day=a.last_day,
        child_count=a.child_count,
        created_at=a.created_at,
    )


async def clusters(db: AsyncSession, p: Principal) -> list[ClusterAlertOut]:
    rows = await db.execute(
        _alert_query().where(P.CLUSTERS.where(p)).order_by(HealthClusterAlert.created_at.desc()).limit(200)
    )
    return [_alert_out(*row) for row in rows]


async def cluster_access(
    db: AsyncSession, p: Principal, alert_id: uuid.UUID, data: ClusterAccessIn
) -> ClusterAccessOut:
    """A health officer opens the checks behind an alert: the reason goes into the audit entry with the
    children read."""
    row = (
        await db.execute(_alert_query().where(HealthClusterAlert.id == alert_id, P.CLUSTER_ACCESS.where(p)))
    ).one_or_none()
    if row is None:
        raise NotFound("cluster_alert")
    alert = row[0]
    rows = (
        await db.execute(
            select(DailyHealthCheck, Child.name)
            .join(Child, Child.id == DailyHealthCheck.child_id)
            .where(
                DailyHealthCheck.class_id == alert.class_id,
                DailyHealthCheck.check_date.between(alert.first_day, alert.last_day),
                DailyHealthCheck.well.is_(False),
            )
            .order_by(DailyHealthCheck.check_date, DailyHealthCheck.created_at)
        )
    ).all()
    checks = []
    for c, name in rows:
        f = _findings(c)
        if alert.symptom in f.get("symptoms", []):
            checks.append(
                ClusterCheck(
                    child_id=c.child_id,
                    name=name,
                    check_date=c.check_date,
                    session=c.session,  # type: ignore[arg-type]
                    symptoms=f.get("symptoms", []),
                    temperature_c=f.get("temperature_c"),
                    outcome=c.outcome,  # type: ignore[arg-type]
                )
            )
    audit.note(db, reason=data.reason.strip(), cluster_alert=str(alert.id))
    audit.read_children(db, [c.child_id for c in checks])
    return ClusterAccessOut(alert=_alert_out(*row), checks=checks)
