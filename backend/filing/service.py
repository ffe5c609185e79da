"""Filing (备案): the institution's dossier, its submission and the health officer's decision.

Life of a filing (``filings.status``, mirrored on ``institutions.filing_status`` in the same
transaction; ``institutions.filed_at`` follows by trigger)::

    unfiled (draft) ──submit──> submitted ──approve──> filed
                                    │
                                    └──return (reasons)──> returned ──submit──> submitted …

* The institution's admins save the draft (``save``: whether meals are served, and per document
  kind the uploads of purpose ``filing_document``) while it is unfiled or returned, then ``submit``
  it; a submission lacking a required kind is refused (422 ``filing_documents_missing`` naming
  them). Required: the business licence *or* the legal-person certificate, proof of site, staff
  qualifications, health certificates, the health evaluation report, the fire-safety certificate,
  and the food licence when meals are served.
* The review is due ``FILING_REVIEW_WORKING_DAYS`` working days after the submission
  (``core.workdays.add_working_days``: China's calendar); a submitted filing past it is *overdue*.
* ``decide`` (approve, or return with reasons) locks the filing's row and acts only on a filing
  that is ``submitted`` — and, when the officer names it, on the very submission they reviewed — so
  of two officers deciding at once, or a decision racing a resubmission, exactly one wins and the
  other gets 409.
* Every submission and decision is a ``filing_history`` row and an event (``filing.submitted``,
  ``filing.approved``, ``filing.returned``) for the institution's staff and the health department of
  its unit. Officers' writes are audited (``core.audit``) with the decision as a note.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core import audit
from backend.core.authz import Action, Principal
from backend.core.clock import utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.core.outbox import emit
from backend.core.storage import Storage
from backend.core.workdays import add_working_days
from backend.files import service as files
from backend.files.models import Upload
from backend.filing import permissions as P
from backend.filing.models import (
    ALWAYS_REQUIRED,
    KIND_ZH,
    REGISTRATION_KINDS,
    DocumentKind,
    Filing,
    FilingHistory,
    subject_type,
)
from backend.filing.schemas import FilingHistoryOut, FilingIn, FilingKindDocuments, FilingOut, FilingQueueItem
from backend.government.models import Unit
from backend.institutions.models import Institution

SUBJECT = "filing"
PURPOSE = "filing_document"
DOCUMENT_URL_TTL_S = 300
EDITABLE = ("unfiled", "returned")
TITLES = {
    "submitted": ("机构备案已提交，待审核", "Filing submitted for review"),
    "approved": ("机构备案已通过", "Filing approved"),
    "returned": ("机构备案被退回，请补正", "Filing returned for correction"),
}


# ---------------------------------------------------------------------------------------------- rules


def required_kinds(serves_meals: bool) -> list[DocumentKind]:
    """The kinds a submission needs (of the registration kinds, either one)."""
    kinds = [*REGISTRATION_KINDS, *ALWAYS_REQUIRED]
    if serves_meals:
        kinds.append(DocumentKind.FOOD_LICENCE)
    return kinds


def missing_kinds(serves_meals: bool, counts: dict[str, int]) -> list[str]:
    """The required kinds without a document; both registration kinds when neither has one."""
    missing: list[str] = []
    if not any(counts.get(kind, 0) for kind in REGISTRATION_KINDS):
        missing.extend(REGISTRATION_KINDS)
    missing.extend(kind for kind in ALWAYS_REQUIRED if not counts.get(kind, 0))
    if serves_meals and not counts.get(DocumentKind.FOOD_LICENCE, 0):
        missing.append(DocumentKind.FOOD_LICENCE)
    return [str(kind) for kind in missing]


def due_date(submitted_at: dt.datetime, settings: Settings) -> dt.datetime:
    return add_working_days(submitted_at, settings.filing_review_working_days).at


def overdue_sql(now: dt.datetime) -> Any:
    return and_(Filing.status == "submitted", Filing.due_at < now)


def _is_overdue(status: str, due_at: dt.datetime | None, now: dt.datetime) -> bool:
    return status == "submitted" and due_at is not None and due_at < now


def _not_editable(status: str) -> Conflict:
    zh = {"submitted": "备案已提交，正在审核中，暂不能修改", "filed": "机构已完成备案"}.get(status, "备案当前不能修改")
    return Conflict(
        f"The filing is {status}: it can be changed and submitted only while unfiled or returned",
        detail_zh=zh,
        code="filing_not_editable",
        extra={"status": status},
    )


# ---------------------------------------------------------------------------------------------- loading


async def _institution(db: AsyncSession, p: Principal, institution_id: uuid.UUID, act: Action) -> Institution:
    inst = await db.scalar(
        select(Institution)
        .where(Institution.id == institution_id, act.where(p))
        .execution_options(populate_existing=True)
    )
    if inst is None:
        raise NotFound("institution")
    return inst


async def _locked_filing(db: AsyncSession, inst: Institution) -> Filing:
    """The institution's filing row, created if missing, locked (FOR UPDATE) for this transaction.

    An institution without a row whose status is neither unfiled nor returned (filed before the
    platform kept dossiers) cannot start one: 409."""
    filing = await db.scalar(
        select(Filing)
        .where(Filing.institution_id == inst.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if filing is not None:
        return filing
    if inst.filing_status not in EDITABLE:
        raise _not_editable(inst.filing_status)
    await db.execute(
        insert(Filing).values(institution_id=inst.id).on_conflict_do_nothing(index_elements=["institution_id"])
    )
    filing = await db.scalar(
        select(Filing)
        .where(Filing.institution_id == inst.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert filing is not None
    return filing


async def _counts(db: AsyncSession, filing_id: uuid.UUID) -> dict[str, int]:
    rows = await db.execute(
        select(Upload.subject_type, func.count())
        .where(Upload.subject_id == filing_id, Upload.subject_type.in_([subject_type(k) for k in DocumentKind]))
        .group_by(Upload.subject_type)
    )
    prefix = len(subject_type(""))
    return {row[0][prefix:]: row[1] for row in rows}


# ---------------------------------------------------------------------------------------------- reading


async def _out(
    db: AsyncSession, storage: Storage, inst: Institution, filing: Filing | None, *, with_urls: bool = True
) -> FilingOut:
    now = utcnow()
    unit_name = await db.scalar(select(Unit.name_zh).where(Unit.code == inst.unit_code)) or ""
    serves_meals = filing.serves_meals if filing else False
    documents: dict[str, list[Any]] = {subject_type(k): [] for k in DocumentKind}
    history: list[FilingHistoryOut] = []
    counts: dict[str, int] = {}
    if filing is not None:
        if with_urls:
            documents = await files.presigned_documents(
                db, storage, subject_types=list(documents), subject_id=filing.id, expires_s=DOCUMENT_URL_TTL_S
            )
        counts = {t[len(subject_type("")) :]: len(v) for t, v in documents.items()}
        rows = await db.scalars(
            select(FilingHistory).where(FilingHistory.filing_id == filing.id).order_by(FilingHistory.id)
        )
        history = [
            FilingHistoryOut(
                action=h.action,  # type: ignore[arg-type]
                submission=h.submission,
                at=h.at,
                by_officer=h.action != "submitted",
                reasons=h.reasons,
            )
            for h in rows
        ]
    required = {str(k) for k in required_kinds(serves_meals)}
    status = filing.status if filing else inst.filing_status
    return FilingOut(
        id=filing.id if filing else None,
        institution_id=inst.id,
        institution_name=inst.name,
        unit_code=inst.unit_code,
        unit_name_zh=unit_name,
        status=status,  # type: ignore[arg-type]
        serves_meals=serves_meals,
        submission=filing.submission if filing else 0,
        submitted_at=filing.submitted_at if filing else None,
        due_at=filing.due_at if filing else None,
        overdue=_is_overdue(status, filing.due_at if filing else None, now),
        decided_at=filing.decided_at if filing else None,
        return_reasons=filing.return_reasons if filing else None,
        filed_at=inst.filed_at,
        editable=status in EDITABLE,
        missing_kinds=missing_kinds(serves_meals, counts),  # type: ignore[arg-type]
        documents=[
            FilingKindDocuments(
                kind=str(kind),  # type: ignore[arg-type]
                kind_zh=KIND_ZH[kind],
                required=str(kind) in required,
                files=documents[subject_type(kind)],
            )
            for kind in DocumentKind
        ],
        history=history,
    )


async def institution_filing(db: AsyncSession, storage: Storage, p: Principal, institution_id: uuid.UUID) -> FilingOut:
    """The institution's own view (its staff and admins, the city admin)."""
    inst = await _institution(db, p, institution_id, P.READ)
    filing = await db.scalar(
        select(Filing).where(Filing.institution_id == inst.id).execution_options(populate_existing=True)
    )
    return await _out(db, storage, inst, filing)


async def review_detail(db: AsyncSession, storage: Storage, p: Principal, filing_id: uuid.UUID) -> FilingOut:
    """A filing in full for a reviewing officer (404 outside their units)."""
    row = (
        await db.execute(
            select(Filing, Institution)
            .join(Institution, Institution.id == Filing.institution_id)
            .where(Filing.id == filing_id, P.REVIEW_READ.where(p))
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("filing")
    return await _out(db, storage, row.Institution, row.Filing)


async def queue(
    db: AsyncSession,
    p: Principal,
    *,
    statuses: list[str],
    overdue: bool | None,
    unit: int | None,
    limit: int,
    offset: int,
) -> list[FilingQueueItem]:
    """Filings in the officer's units (filtered in SQL): by default those waiting for a decision,
    the earliest due first."""
    now = utcnow()
    q = (
        select(Filing, Institution.name, Institution.unit_code, Unit.name_zh)
        .join(Institution, Institution.id == Filing.institution_id)
        .join(Unit, Unit.code == Institution.unit_code)
        .where(P.QUEUE.where(p), Filing.status.in_(statuses))
    )
    if overdue is True:
        q = q.where(overdue_sql(now))
    elif overdue is False:
        q = q.where(~overdue_sql(now))
    if unit is not None:
        q = q.where(Institution.unit_code == unit)
    q = q.order_by(Filing.due_at.asc().nulls_last(), Filing.id).limit(limit).offset(offset)
    return [
        FilingQueueItem(
            id=f.id,
            institution_id=f.institution_id,
            institution_name=name,
            unit_code=unit_code,
            unit_name_zh=unit_zh,
            status=f.status,  # type: ignore[arg-type]
            submission=f.submission,
            submitted_at=f.submitted_at,
            due_at=f.due_at,
            overdue=_is_overdue(f.status, f.due_at, now),
            serves_meals=f.serves_meals,
        )
        for f, name, unit_code, unit_zh in (await db.execute(q)).all()
    ]


# ---------------------------------------------------------------------------------------------- writing


async def save(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: FilingIn) -> None:
    """Save the draft: meals, and per kind its documents in order (flushes; the route commits)."""
    inst = await _institution(db, p, institution_id, P.SAVE)
    filing = await _locked_filing(db, inst)
    if filing.status not in EDITABLE:
        raise _not_editable(filing.status)
    for kind in DocumentKind:
        await files.attach(
            db,
            owner_id=p.account_id,
            upload_ids=getattr(data.documents, kind.value),
            purpose=PURPOSE,
            subject_type=subject_type(kind),
            subject_id=filing.id,
            keep_others=True,  # any admin of the institution keeps the dossier up
        )
    filing.serves_meals = data.serves_meals
    await db.flush()


def _emit(db: AsyncSession, inst: Institution, filing: Filing, action: str) -> None:
    title_zh, title = TITLES[action]
    emit(
        db,
        f"filing.{action}",
        subject_type=SUBJECT,
        subject_id=filing.id,
        institution_id=inst.id,
        departments=[P.HEALTH],
        unit_code=inst.unit_code,
        payload={
            "status": filing.status,
            "institution_id": str(inst.id),
            "submission": filing.submission,
            "title_zh": title_zh,
            "title": title,
        },
    )


async def submit(db: AsyncSession, settings: Settings, p: Principal, institution_id: uuid.UUID) -> None:
    """Submit the draft for review (flushes; the route commits)."""
    inst = await _institution(db, p, institution_id, P.SUBMIT)
    filing = await _locked_filing(db, inst)
    if filing.status not in EDITABLE:
        raise _not_editable(filing.status)
    missing = missing_kinds(filing.serves_meals, await _counts(db, filing.id))
    if missing:
        names = "、".join(KIND_ZH[DocumentKind(k)] for k in missing)
        raise RuleViolation(
            f"Documents are missing: {', '.join(missing)}",
            detail_zh=f"缺少备案材料：{names}",
            code="filing_documents_missing",
            extra={"missing": missing, "one_of": [list(map(str, REGISTRATION_KINDS))]},
        )
    now = utcnow()
    filing.status = "submitted"
    filing.submission += 1
    filing.submitted_at = now
    filing.due_at = due_date(now, settings)
    filing.decided_at = None
    filing.decided_by = None
    filing.return_reasons = None
    await db.execute(update(Institution).where(Institution.id == inst.id).values(filing_status="submitted"))
    db.add(FilingHistory(filing_id=filing.id, action="submitted", submission=filing.submission, actor_id=p.account_id))
    await db.flush()
    _emit(db, inst, filing, "submitted")
    await db.flush()


async def decide(
    db: AsyncSession,
    p: Principal,
    filing_id: uuid.UUID,
    *,
    approve: bool,
    reasons: str | None,
    expected_submission: int | None,
) -> None:
    """Approve or return (with reasons) a submitted filing (flushes; the route commits)."""
    reasons = (reasons or "").strip() or None
    if not approve and reasons is None:
        raise RuleViolation(
            "Give the reasons for returning the filing", detail_zh="请填写退回原因", code="reasons_required"
        )
    # Lock the filing row only (then update the institution): the same order as ``submit``.
    row = (
        await db.execute(
            select(Filing, Institution)
            .join(Institution, Institution.id == Filing.institution_id)
            .where(Filing.id == filing_id, P.DECIDE.where(p))
            .with_for_update(of=Filing)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("filing")
    filing, inst = row.Filing, row.Institution
    if filing.status != "submitted":
        raise Conflict(
            f"The filing is {filing.status}, not submitted: there is nothing to decide",
            detail_zh="该备案当前不在待审核状态，无需审核（可能已被其他人处理）",
            code="filing_not_submitted",
            extra={"status": filing.status},
        )
    if expected_submission is not None and expected_submission != filing.submission:
        raise Conflict(
            "The institution has submitted again since you reviewed it: reload and review again",
            detail_zh="机构已重新提交备案材料，请刷新后重新审核",
            code="submission_changed",
            extra={"submission": filing.submission, "expected": expected_submission},
        )
    now = utcnow()
    action = "approved" if approve else "returned"
    filing.status = "filed" if approve else "returned"
    filing.decided_at = now
    filing.decided_by = p.account_id
    filing.return_reasons = None if approve else reasons
    await db.execute(
        update(Institution)
        .where(Institution.id == inst.id)
        .values(filing_status=filing.status, filed_at=now if approve else None)
    )
    db.add(
        FilingHistory(
            filing_id=filing.id, action=action, submission=filing.submission, actor_id=p.account_id, reasons=reasons
        )
    )
    await db.flush()
    _emit(db, inst, filing, action)
    audit.note(db, decision=action, submission=filing.submission)
    await db.flush()
