"""Children's health records: the guardian's consent and profile, growth measurements with their
scores, follow-up items and the gentle message to the guardians.

Reads through the declared scopes (``permissions``): a child outside them answers 404. Every answer
to staff that carries a child's health data lists the child in the read audit
(``audit.read_children``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.childhealth import growth
from backend.childhealth import permissions as P
from backend.childhealth.models import ChildHealthProfile, GrowthMeasurement, HealthFollowUp
from backend.childhealth.schemas import (
    HEALTH_DATA_POLICY_VERSION,
    ChartOut,
    ChartPoint,
    CurveOut,
    FollowUpOut,
    GrowthChartOut,
    GrowthScoreOut,
    HealthProfileIn,
    HealthProfileOut,
    MeasurementIn,
    MeasurementOut,
)
from backend.core import audit, outbox
from backend.core.authz import Action, Principal
from backend.core.clock import local_today, utcnow
from backend.core.errors import NotFound, RuleViolation
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship

CHART_TEXT = {
    "wfa": ("年龄别体重", "月龄", "体重（千克）"),
    "lhfa": ("年龄别身长/身高", "月龄", "身长/身高（厘米）"),
    "wflh": ("身长/身高别体重", "身长/身高（厘米）", "体重（千克）"),
    "bfa": ("年龄别BMI", "月龄", "BMI（千克/平方米）"),
    "hcfa": ("年龄别头围", "月龄", "头围（厘米）"),
}
GUARDIAN_TITLE_ZH = "宝宝的生长测量有新结果，保健老师会与您沟通，也可带宝宝到社区儿童保健门诊咨询"
GUARDIAN_TITLE = "A new growth measurement: the institution's health worker will talk with you"
STAFF_TITLE_ZH = "生长监测：有一名幼儿需要随访"
STAFF_TITLE = "Growth monitoring: a child needs follow-up"


async def _child(db: AsyncSession, p: Principal, child_id: uuid.UUID, act: Action) -> Child:
    child = await db.scalar(select(Child).where(Child.id == child_id, act.where(p)))
    if child is None:
        raise NotFound("child")
    return child


# ---------------------------------------------------------------------------------------------- profile


async def set_profile(db: AsyncSession, p: Principal, child_id: uuid.UUID, data: HealthProfileIn) -> HealthProfileOut:
    child = await _child(db, p, child_id, P.PROFILE)
    if not data.consent.accepted:
        raise RuleViolation(
            "A guardian's consent to processing the child's health data is required",
            detail_zh="记录儿童健康信息须经监护人同意，请勾选同意",
            code="health_consent_required",
        )
    if data.consent.policy_version != HEALTH_DATA_POLICY_VERSION:
        raise RuleViolation(
            f"The consent must be to the current notice (version {HEALTH_DATA_POLICY_VERSION}); reload the page",
            detail_zh=f"请阅读并同意当前版本（{HEALTH_DATA_POLICY_VERSION}）的儿童健康信息说明，请刷新页面后重试",
            code="consent_policy_outdated",
            extra={"policy_version": HEALTH_DATA_POLICY_VERSION},
        )
    profile = await db.get(ChildHealthProfile, child.id, with_for_update=True)
    if profile is None:
        profile = ChildHealthProfile(child_id=child.id, sex=data.sex)
        db.add(profile)
    profile.sex = data.sex
    profile.policy_version = data.consent.policy_version
    profile.consented_by = p.account_id
    profile.consented_at = utcnow()
    await db.flush()
    return HealthProfileOut(
        child_id=child.id, sex=data.sex, policy_version=profile.policy_version, consented_at=profile.consented_at
    )


# ---------------------------------------------------------------------------------------------- measurements


def _readings(m: GrowthMeasurement) -> dict[str, float | None]:
    return json.loads(m.readings)


def _scores(sex: str, birth_date: dt.date, on: dt.date, r: dict[str, float | None]) -> list[growth.Score]:
    return growth.STANDARD.scores(
        sex,
        growth.age_days(birth_date, on),
        length_cm=r.get("length_cm"),
        weight_kg=r.get("weight_kg"),
        head_cm=r.get("head_cm"),
    )


def alerts(scores: Sequence[growth.Score], previous: Sequence[growth.Score] = ()) -> list[str]:
    """Beyond ±2 SD on one of the four indicators, or two centile lines crossed since the last measurement."""
    out: list[str] = []
    before = {s.indicator: s.z for s in previous}
    for s in scores:
        if s.indicator not in growth.ALERT_INDICATORS:
            continue
        if s.z < -2:
            out.append(f"{s.indicator}_low")
        elif s.z > 2:
            out.append(f"{s.indicator}_high")
        if s.indicator in before and growth.centile_lines_crossed(before[s.indicator], s.z) >= 2:
            out.append(f"{s.indicator}_crossed")
    return out


def _measurement_out(
    m: GrowthMeasurement, scores: list[growth.Score], alert_codes: list[str], birth_date: dt.date
) -> MeasurementOut:
    r = _readings(m)
    length, weight = r.get("length_cm"), r.get("weight_kg")
    return MeasurementOut(
        id=m.id,
        child_id=m.child_id,
        measured_on=m.measured_on,
        age_days=growth.age_days(birth_date, m.measured_on),
        length_cm=length,
        weight_kg=weight,
        head_cm=r.get("head_cm"),
        bmi=round(growth.bmi(weight, length), 1) if length and weight else None,
        measured_by_staff=m.institution_id is not None,
        scores=[GrowthScoreOut(indicator=s.indicator, z=s.z, percentile=s.percentile) for s in scores],  # type: ignore[arg-type]
        alerts=alert_codes,
    )


async def _history(db: AsyncSession, child: Child, sex: str | None) -> list[MeasurementOut]:
    rows = list(
        await db.scalars(
            select(GrowthMeasurement)
            .where(GrowthMeasurement.child_id == child.id)
            .order_by(GrowthMeasurement.measured_on, GrowthMeasurement.created_at)
        )
    )
    out: list[MeasurementOut] = []
    previous: list[growth.Score] = []
    for m in rows:
        scores = _scores(sex, child.birth_date, m.measured_on, _readings(m)) if sex else []
        out.append(_measurement_out(m, scores, alerts(scores, previous), child.birth_date))
        previous = scores or previous
    return out


async def _sex(db: AsyncSession, child_id: uuid.UUID) -> str | None:
    profile = await db.get(ChildHealthProfile, child_id)
    return profile.sex if profile else None


async def record_growth(db: AsyncSession, p: Principal, child_id: uuid.UUID, data: MeasurementIn) -> MeasurementOut:
    child = await _child(db, p, child_id, P.RECORD_GROWTH)
    if data.length_cm is None and data.weight_kg is None and data.head_cm is None:
        raise RuleViolation(
            "Give at least one of length/height, weight and head circumference",
            detail_zh="请至少填写身长/身高、体重、头围中的一项",
            code="measurement_empty",
        )
    if data.measured_on > local_today() or data.measured_on < child.birth_date:
        raise RuleViolation(
            "The measurement date must lie between the birth date and today",
            detail_zh="测量日期须在出生日期与今天之间",
            code="measured_on_out_of_range",
        )
    sex = await _sex(db, child.id)
    if sex is None:
        raise RuleViolation(
            "The guardian has not yet consented to the processing of the child's health data",
            detail_zh="家长尚未同意记录该幼儿的健康信息，请提醒家长在“我的孩子”中确认",
            code="health_consent_required",
        )
    institution_id = await db.scalar(
        select(Application.institution_id)
        .where(
            Application.child_id == child.id,
            Application.institution_id.in_(p.institutions()),
            Application.status.in_(P.IN_CARE),
        )
        .limit(1)
    )
    readings = {"length_cm": data.length_cm, "weight_kg": data.weight_kg, "head_cm": data.head_cm}
    previous_row = await db.scalar(
        select(GrowthMeasurement)
        .where(GrowthMeasurement.child_id == child.id, GrowthMeasurement.measured_on <= data.measured_on)
        .order_by(GrowthMeasurement.measured_on.desc(), GrowthMeasurement.created_at.desc())
        .limit(1)
    )
    previous = _scores(sex, child.birth_date, previous_row.measured_on, _readings(previous_row)) if previous_row else []
    m = GrowthMeasurement(
        id=uuid.uuid4(),
        child_id=child.id,
        institution_id=institution_id,
        measured_by=p.account_id,
        measured_on=data.measured_on,
        readings=json.dumps(readings),
    )
    db.add(m)
    await db.flush()
    scores = _scores(sex, child.birth_date, data.measured_on, readings)
    codes = alerts(scores, previous)
    if codes and institution_id is not None:
        await _follow_up(db, child.id, institution_id, m.id, codes)
    audit.read_children(db, [child.id])
    return _measurement_out(m, scores, codes, child.birth_date)


async def _follow_up(
    db: AsyncSession, child_id: uuid.UUID, institution_id: uuid.UUID, measurement_id: uuid.UUID, codes: list[str]
) -> None:
    item = HealthFollowUp(
        id=uuid.uuid4(),
        child_id=child_id,
        institution_id=institution_id,
        measurement_id=measurement_id,
        kind="growth",
        reasons=json.dumps(codes),
        status="open",
    )
    db.add(item)
    await db.flush()
    guardians = list(await db.scalars(select(Guardianship.account_id).where(Guardianship.child_id == child_id)))
    # Ids and a fixed, gentle title only: never the values, the reasons or the child's name.
    outbox.emit(
        db,
        "growth.follow_up",
        subject_type="child_growth",
        subject_id=child_id,
        accounts=guardians,
        payload={"title_zh": GUARDIAN_TITLE_ZH, "title": GUARDIAN_TITLE},
    )
    outbox.emit(
        db,
        "health_follow_up.opened",
        subject_type="health_follow_up",
        subject_id=item.id,
        institution_id=institution_id,
        payload={"title_zh": STAFF_TITLE_ZH, "title": STAFF_TITLE, "status": "open"},
    )


async def staff_growth(db: AsyncSession, p: Principal, child_id: uuid.UUID) -> list[MeasurementOut]:
    child = await _child(db, p, child_id, P.READ_GROWTH)
    out = await _history(db, child, await _sex(db, child.id))
    audit.read_children(db, [child.id])
    return out


# ---------------------------------------------------------------------------------------------- the chart


def _x_of(indicator: str, m: MeasurementOut) -> float | None:
    if indicator == "wflh":
        return m.length_cm
    return round(m.age_days / growth.DAYS_PER_MONTH, 2)


def _y_of(indicator: str, m: MeasurementOut) -> float | None:
    return {"wfa": m.weight_kg, "lhfa": m.length_cm, "wflh": m.weight_kg, "bfa": m.bmi, "hcfa": m.head_cm}[indicator]


def _charts(sex: str, birth_date: dt.date, measurements: list[MeasurementOut]) -> list[ChartOut]:
    age_months = growth.age_days(birth_date, local_today()) / growth.DAYS_PER_MONTH
    last_month = min(60, max(12, int(age_months) + 3))
    months = [float(m) for m in range(0, last_month + 1)]
    standing = age_months >= 24
    lengths = [m.length_cm for m in measurements if m.length_cm]
    lo, hi = (65, 120) if standing else (45, 110)
    if lengths:
        lo, hi = max(lo, int(min(lengths)) - 10), min(hi, int(max(lengths)) + 10)
    cms = [float(x) for x in range(lo, hi + 1)]
    charts: list[ChartOut] = []
    for indicator in growth.INDICATORS:
        xs = cms if indicator == "wflh" else months
        points = []
        for m in measurements:
            x, y = _x_of(indicator, m), _y_of(indicator, m)
            score = next((s for s in m.scores if s.indicator == indicator), None)
            if x is not None and y is not None and score is not None:
                points.append(ChartPoint(x=x, y=y, z=score.z, percentile=score.percentile, measured_on=m.measured_on))
        title, x_label, y_label = CHART_TEXT[indicator]
        charts.append(
            ChartOut(
                indicator=indicator,  # type: ignore[arg-type]
                title_zh=title,
                x_label_zh=x_label,
                y_label_zh=y_label,
                curves=[
                    CurveOut(
                        z=z, points=[[x, y] for x, y in growth.STANDARD.curve(indicator, sex, z, xs, standing=standing)]
                    )
                    for z in growth.CURVE_Z
                ],
                points=points,
            )
        )
    return charts


async def guardian_chart(db: AsyncSession, p: Principal, child_id: uuid.UUID) -> GrowthChartOut:
    child = await _child(db, p, child_id, P.CHART)
    sex = await _sex(db, child.id)
    measurements = await _history(db, child, sex)
    return GrowthChartOut(
        child_id=child.id,
        sex=sex,  # type: ignore[arg-type]
        standard=growth.STANDARD.name,
        measurements=measurements,
        charts=_charts(sex, child.birth_date, measurements) if sex else [],
    )


# ---------------------------------------------------------------------------------------------- follow-ups


async def follow_ups(db: AsyncSession, p: Principal, status: str) -> list[FollowUpOut]:
    rows = (
        await db.execute(
            select(HealthFollowUp, Child.name)
            .join(Child, Child.id == HealthFollowUp.child_id)
            .where(P.FOLLOW_UPS.where(p), HealthFollowUp.status == status)
            .order_by(HealthFollowUp.created_at.desc())
            .limit(200)
        )
    ).all()
    audit.read_children(db, [item.child_id for item, _ in rows])
    return [
        FollowUpOut(
            id=item.id,
            child_id=item.child_id,
            child_name=name,
            kind=item.kind,  # type: ignore[arg-type]
            reasons=json.loads(item.reasons),
            status=item.status,  # type: ignore[arg-type]
            created_at=item.created_at,
            measurement_id=item.measurement_id,
            due_on=item.due_on,
        )
        for item, name in rows
    ]


async def close_follow_up(db: AsyncSession, p: Principal, item_id: uuid.UUID) -> None:
    item = await db.scalar(
        select(HealthFollowUp).where(HealthFollowUp.id == item_id, P.CLOSE_FOLLOW_UP.where(p)).with_for_update()
    )
    if item is None:
        raise NotFound("follow_up")
    if item.status == "open":
        item.status = "closed"
        item.closed_at = utcnow()
        item.closed_by = p.account_id
        await db.flush()
