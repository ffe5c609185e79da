"""Quality assessments: recording, editing drafts, publishing, following up rectification items.

Rules (each refused with a 4xx that names it; nothing is written):

* every dimension of the standard is scored, none unknown (422 ``unknown_dimension`` /
  ``missing_dimension``), each 0..its maximum (``score_out_of_range``, also a CHECK) in whole
  points or one decimal (``score_precision``);
* a total or grade the client sends must be the sum of the scores / the grade of that sum
  (``scores_do_not_add_up``, ``grade_does_not_match``); the database computes both anyway;
* the date is not in the future (``date_in_the_future``); at most ``MAX_ITEMS`` rectification items
  (``too_many_items``), each due after the assessment date (``deadline_before_assessment``) and not
  in the past (``deadline_in_the_past``, checked again when publishing);
* published assessments are final (409 ``assessment_published``); only published ones are followed up
  (409 ``assessment_not_published``).

Writes lock the assessment row (``FOR UPDATE``), so an edit and a publish cannot interleave.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.accounts.models import Account
from backend.assessments import permissions as P
from backend.assessments.models import Assessment, RectificationItem
from backend.assessments.schemas import (
    AssessmentEdit,
    AssessmentIn,
    AssessmentListItem,
    AssessmentOut,
    DimensionOut,
    FollowUpIn,
    GradeBand,
    ItemOut,
    PublicAssessment,
    ResponseIn,
    ScoreOut,
    StandardOut,
)
from backend.assessments.standard import (
    BY_KEY,
    DIMENSIONS,
    GRADE_CUTOFFS,
    GRADE_NAMES_ZH,
    MAX_ITEMS,
    TOTAL_POINTS,
    column,
    grade_for,
)
from backend.core import audit
from backend.core.authz import Action, Principal
from backend.core.clock import local_today, utcnow
from backend.core.db import autocommit_reads
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.core.outbox import emit
from backend.institutions.models import Institution


def standard() -> StandardOut:
    return StandardOut(
        code="WS/T 821-2023",
        title_zh="托育机构质量评估标准",
        total_points=TOTAL_POINTS,
        dimensions=[
            DimensionOut(key=d.key, name_zh=d.name_zh, name=d.name, max_points=d.max_points) for d in DIMENSIONS
        ],
        grades=[
            *(GradeBand(grade=g, name_zh=GRADE_NAMES_ZH[g], min_total=floor) for g, floor in GRADE_CUTOFFS),  # type: ignore[arg-type]
            GradeBand(grade="D", name_zh=GRADE_NAMES_ZH["D"], min_total=0),
        ],
    )


# ---------------------------------------------------------------------------------------------- checks


def _rule(code: str, en: str, zh: str, **extra: Any) -> RuleViolation:
    return RuleViolation(en, detail_zh=zh, code=code, extra=extra or None)


def check_scores(scores: dict[str, float], total: float | None, grade: str | None) -> dict[str, float]:
    """The score columns for ``scores``, or a 422 naming what is wrong."""
    unknown = sorted(set(scores) - set(BY_KEY))
    if unknown:
        raise _rule("unknown_dimension", f"Unknown dimension: {', '.join(unknown)}", "评估维度不存在", keys=unknown)
    missing = [d.key for d in DIMENSIONS if d.key not in scores]
    if missing:
        raise _rule(
            "missing_dimension",
            f"Score every dimension; missing: {', '.join(missing)}",
            "请为每个评估维度评分",
            keys=missing,
        )
    values: dict[str, float] = {}
    tenths = 0
    for d in DIMENSIONS:
        value = scores[d.key]
        if not 0 <= value <= d.max_points:
            raise _rule(
                "score_out_of_range",
                f"The score for {d.name} must be between 0 and {d.max_points}",
                f"{d.name_zh}得分须在 0 至 {d.max_points} 分之间",
                key=d.key,
            )
        scaled = round(value * 10)
        if abs(value * 10 - scaled) > 1e-6:
            raise _rule("score_precision", "Scores have at most one decimal", "得分最多保留一位小数", key=d.key)
        tenths += scaled
        values[column(d.key)] = scaled / 10
    computed = tenths / 10
    if total is not None and abs(total - computed) > 1e-6:
        raise _rule(
            "scores_do_not_add_up",
            f"The total {total:g} is not the sum of the scores ({computed:g})",
            f"总分 {total:g} 与各维度得分之和（{computed:g}）不符",
            sum=computed,
        )
    if grade is not None and grade != grade_for(computed):
        raise _rule(
            "grade_does_not_match",
            f"Grade {grade} does not match the total {computed:g} (grade {grade_for(computed)})",
            f"等级 {grade} 与总分 {computed:g} 不符（应为 {grade_for(computed)} 级）",
            expected=grade_for(computed),
        )
    return values


def _check_deadlines(assessed_on: dt.date, deadlines: list[dt.date], today: dt.date) -> None:
    for n, deadline in enumerate(deadlines):
        if deadline <= assessed_on:
            raise _rule(
                "deadline_before_assessment",
                "A rectification deadline must be after the assessment date",
                "整改期限须晚于评估日期",
                item=n,
            )
        if deadline < today:
            raise _rule(
                "deadline_in_the_past", "A rectification deadline is in the past", "整改期限不能早于今天", item=n
            )


def _check(data: AssessmentEdit) -> dict[str, float]:
    values = check_scores(data.scores, data.total, data.grade)
    today = local_today()
    if data.assessed_on > today:
        raise _rule("date_in_the_future", "The assessment date is in the future", "评估日期不能晚于今天")
    if len(data.items) > MAX_ITEMS:
        raise _rule(
            "too_many_items",
            f"At most {MAX_ITEMS} rectification items",
            f"整改事项最多 {MAX_ITEMS} 项",
            max=MAX_ITEMS,
        )
    _check_deadlines(data.assessed_on, [i.deadline for i in data.items], today)
    return values


def _add_items(db: AsyncSession, assessment_id: uuid.UUID, data: AssessmentEdit) -> None:
    for n, item in enumerate(data.items):
        db.add(
            RectificationItem(
                id=uuid.uuid4(),
                assessment_id=assessment_id,
                position=n,
                description=item.description.strip(),
                deadline=item.deadline,
            )
        )


# ---------------------------------------------------------------------------------------------- writes


async def create(db: AsyncSession, p: Principal, data: AssessmentIn) -> uuid.UUID:
    values = _check(data)
    institution = await db.scalar(
        select(Institution.id).where(Institution.id == data.institution_id, P.CREATE.where(p))
    )
    if institution is None:
        raise NotFound("institution")
    assessment = Assessment(
        id=uuid.uuid4(),
        institution_id=data.institution_id,
        assessed_on=data.assessed_on,
        assessors=[a.strip() for a in data.assessors],
        summary=data.summary.strip(),
        findings=data.findings,
        created_by=p.account_id,
        **values,
    )
    db.add(assessment)
    await db.flush()
    _add_items(db, assessment.id, data)
    await db.flush()
    audit.note(db, decision="recorded")
    return assessment.id


async def _locked(db: AsyncSession, p: Principal, assessment_id: uuid.UUID, act: Action) -> Assessment:
    assessment = await db.scalar(
        select(Assessment).where(Assessment.id == assessment_id, act.where(p)).with_for_update()
    )
    if assessment is None:
        raise NotFound("assessment")
    return assessment


def _draft(assessment: Assessment) -> None:
    if assessment.status != "draft":
        raise Conflict(
            "A published assessment cannot be changed", detail_zh="已发布的评估不能修改", code="assessment_published"
        )


async def update(db: AsyncSession, p: Principal, assessment_id: uuid.UUID, data: AssessmentEdit) -> None:
    assessment = await _locked(db, p, assessment_id, P.UPDATE)
    _draft(assessment)
    values = _check(data)
    assessment.assessed_on = data.assessed_on
    assessment.assessors = [a.strip() for a in data.assessors]
    assessment.summary = data.summary.strip()
    assessment.findings = data.findings
    for key, value in values.items():
        setattr(assessment, key, value)
    await db.execute(delete(RectificationItem).where(RectificationItem.assessment_id == assessment.id))
    _add_items(db, assessment.id, data)
    await db.flush()
    await db.refresh(assessment, ["total", "grade"])


async def remove(db: AsyncSession, p: Principal, assessment_id: uuid.UUID) -> None:
    assessment = await _locked(db, p, assessment_id, P.DELETE)
    _draft(assessment)
    await db.delete(assessment)
    await db.flush()


async def publish(db: AsyncSession, p: Principal, assessment_id: uuid.UUID) -> None:
    assessment = await _locked(db, p, assessment_id, P.PUBLISH)
    if assessment.status == "published":
        raise Conflict("Already published", detail_zh="该评估已发布", code="already_published")
    deadlines = (
        await db.scalars(select(RectificationItem.deadline).where(RectificationItem.assessment_id == assessment.id))
    ).all()
    today = local_today()
    if assessment.assessed_on > today:
        raise _rule("date_in_the_future", "The assessment date is in the future", "评估日期不能晚于今天")
    _check_deadlines(assessment.assessed_on, list(deadlines), today)
    assessment.status = "published"
    assessment.published_at = utcnow()
    assessment.published_by = p.account_id
    await db.flush()
    await db.refresh(assessment, ["grade"])
    emit(
        db,
        "assessment.published",
        subject_type="assessment",
        subject_id=assessment.id,
        institution_id=assessment.institution_id,
        payload={
            "assessment_id": str(assessment.id),
            "institution_id": str(assessment.institution_id),
            "grade": assessment.grade,
            "title_zh": "质量评估结果已发布",
            "title": "Quality assessment published",
        },
    )
    audit.note(db, decision="published", grade=assessment.grade)


async def _item(db: AsyncSession, assessment: Assessment, item_id: uuid.UUID) -> RectificationItem:
    item = await db.scalar(
        select(RectificationItem)
        .where(RectificationItem.id == item_id, RectificationItem.assessment_id == assessment.id)
        .with_for_update()
    )
    if item is None:
        raise NotFound("rectification item")
    return item


async def follow_up(
    db: AsyncSession, p: Principal, assessment_id: uuid.UUID, item_id: uuid.UUID, data: FollowUpIn
) -> None:
    assessment = await _locked(db, p, assessment_id, P.FOLLOW_UP)
    if assessment.status != "published":
        raise Conflict(
            "Publish the assessment before following up its items",
            detail_zh="评估发布后才能跟进整改事项",
            code="assessment_not_published",
        )
    item = await _item(db, assessment, item_id)
    item.status = data.status
    item.followup_note = data.note.strip()
    item.followed_up_at = utcnow()
    item.followed_up_by = p.account_id
    await db.flush()
    audit.note(db, decision=f"item_{data.status}")


async def respond(
    db: AsyncSession, p: Principal, assessment_id: uuid.UUID, item_id: uuid.UUID, data: ResponseIn
) -> None:
    assessment = await _locked(db, p, assessment_id, P.RESPOND)
    item = await _item(db, assessment, item_id)
    item.response_note = data.note.strip()
    item.responded_at = utcnow()
    item.responded_by = p.account_id
    unit = await db.scalar(select(Institution.unit_code).where(Institution.id == assessment.institution_id))
    emit(
        db,
        "assessment.item_responded",
        subject_type="assessment",
        subject_id=assessment.id,
        departments=[P.DEPARTMENT],
        unit_code=unit,
        payload={
            "assessment_id": str(assessment.id),
            "item_id": str(item.id),
            "institution_id": str(assessment.institution_id),
            "title_zh": "机构已答复整改事项",
            "title": "The institution answered a rectification item",
        },
    )
    await db.flush()


# ---------------------------------------------------------------------------------------------- reads


def _scores(row: Any) -> list[ScoreOut]:
    return [
        ScoreOut(
            key=d.key, name_zh=d.name_zh, name=d.name, max_points=d.max_points, score=float(getattr(row, column(d.key)))
        )
        for d in DIMENSIONS
    ]


async def detail(db: AsyncSession, p: Principal, assessment_id: uuid.UUID, act: Action = P.READ) -> AssessmentOut:
    row = (
        await db.execute(
            select(Assessment, Institution.name, Institution.unit_code)
            .join(Institution, Institution.id == Assessment.institution_id)
            .where(Assessment.id == assessment_id, act.where(p))
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFound("assessment")
    a, institution_name, unit_code = row
    officer = aliased(Account)
    today = local_today()
    items = (
        await db.execute(
            select(RectificationItem, officer.display_name)
            .outerjoin(officer, officer.id == RectificationItem.followed_up_by)
            .where(RectificationItem.assessment_id == a.id)
            .order_by(RectificationItem.position)
            .execution_options(populate_existing=True)
        )
    ).all()
    return AssessmentOut(
        id=a.id,
        institution_id=a.institution_id,
        institution_name=institution_name,
        unit_code=unit_code,
        assessed_on=a.assessed_on,
        assessors=list(a.assessors),
        scores=_scores(a),
        total=float(a.total),
        grade=a.grade,  # type: ignore[arg-type]
        summary=a.summary,
        findings=a.findings,
        status=a.status,  # type: ignore[arg-type]
        published_at=a.published_at,
        created_at=a.created_at,
        updated_at=a.updated_at,
        items=[
            ItemOut(
                id=i.id,
                position=i.position,
                description=i.description,
                deadline=i.deadline,
                status=i.status,  # type: ignore[arg-type]
                overdue=i.status == "open" and i.deadline < today,
                followup_note=i.followup_note,
                followed_up_at=i.followed_up_at,
                followed_up_by_name=name if i.followed_up_by else None,
                response_note=i.response_note,
                responded_at=i.responded_at,
            )
            for i, name in items
        ],
    )


def _item_count(*conds: Any) -> Any:
    return (
        select(func.count())
        .where(RectificationItem.assessment_id == Assessment.id, RectificationItem.status == "open", *conds)
        .scalar_subquery()
    )


async def listing(
    db: AsyncSession,
    p: Principal,
    *,
    institution_id: uuid.UUID | None,
    status: str | None,
    unit: int | None,
    overdue: bool,
    limit: int,
    offset: int,
) -> list[AssessmentListItem]:
    """Assessments ``p`` may read, newest first; the scope and filters are applied in SQL."""
    today = local_today()
    overdue_count = _item_count(RectificationItem.deadline < today)
    stmt: Select[Any] = (
        select(
            Assessment.id,
            Assessment.institution_id,
            Institution.name,
            Institution.unit_code,
            Assessment.assessed_on,
            Assessment.total,
            Assessment.grade,
            Assessment.status,
            Assessment.published_at,
            _item_count().label("open_items"),
            overdue_count.label("overdue_items"),
        )
        .join(Institution, Institution.id == Assessment.institution_id)
        .where(P.LIST.where(p))
        .order_by(Assessment.assessed_on.desc(), Assessment.created_at.desc(), Assessment.id)
        .limit(limit)
        .offset(offset)
    )
    if institution_id is not None:
        stmt = stmt.where(Assessment.institution_id == institution_id)
    if status is not None:
        stmt = stmt.where(Assessment.status == status)
    if unit is not None:
        stmt = stmt.where(Institution.unit_code == unit)
    if overdue:
        stmt = stmt.where(overdue_count > 0)
    rows = (await db.execute(stmt)).all()
    return [
        AssessmentListItem(
            id=r.id,
            institution_id=r.institution_id,
            institution_name=r.name,
            unit_code=r.unit_code,
            assessed_on=r.assessed_on,
            total=float(r.total),
            grade=r.grade,
            status=r.status,
            published_at=r.published_at,
            open_items=r.open_items,
            overdue_items=r.overdue_items,
        )
        for r in rows
    ]


async def public_history(db: AsyncSession, institution_id: uuid.UUID) -> list[PublicAssessment]:
    """An institution's published assessments, newest first (404 for an unknown institution)."""
    await autocommit_reads(db)
    if await db.scalar(select(Institution.id).where(Institution.id == institution_id)) is None:
        raise NotFound("institution")
    rows = (
        await db.execute(
            select(Assessment)
            .where(and_(Assessment.institution_id == institution_id, Assessment.status == "published"))
            .order_by(Assessment.assessed_on.desc(), Assessment.published_at.desc(), Assessment.id.desc())
        )
    ).scalars()
    return [
        PublicAssessment(
            id=a.id,
            assessed_on=a.assessed_on,
            total=float(a.total),
            grade=a.grade,  # type: ignore[arg-type]
            summary=a.summary,
            scores=_scores(a),
            published_at=a.published_at,  # type: ignore[arg-type]
        )
        for a in rows
    ]
