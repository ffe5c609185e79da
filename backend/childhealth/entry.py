"""Entry health checks (入托体检), vaccination certificate checks (查验预防接种证) with catch-up
(补种) follow-up, and the institution's rule for starting care without a current entry check.

The gate (``entry_gate``) is called by the enrolment service when a full-day or half-day place starts
(``accepted`` → ``enrolled``). An institution without a health setting has no gate."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.childhealth import permissions as P
from backend.childhealth.models import (
    EntryHealthCheck,
    HealthFollowUp,
    InstitutionHealthSetting,
    VaccinationCheck,
)
from backend.childhealth.schedule import DOSES, SOURCE
from backend.childhealth.schemas import (
    EntryCheckIn,
    EntryCheckOut,
    HealthRecordsOut,
    HealthSettingIn,
    HealthSettingOut,
    MissingDose,
    VaccinationCheckIn,
    VaccinationCheckOut,
)
from backend.core import audit, outbox
from backend.core.authz import Principal
from backend.core.clock import local_today, utcnow
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.enrolment.models import Application
from backend.families.models import Child, Guardianship
from backend.files import service as files
from backend.institutions.models import Institution

SUBJECT = "entry_health_check"
REPORT_PURPOSE = "health_report"
ENTRY_REMINDER_ZH = "请按托育机构要求尽快提交孩子的入托体检报告"
ENTRY_REMINDER = "Please hand in your child's entry health check report"
CATCH_UP_ZH = "请按期带孩子到接种门诊补种疫苗，详情请咨询托育机构保健老师"
CATCH_UP = "Please take your child for catch-up vaccination; the nursery's health worker can tell you more"


async def _child(db: AsyncSession, p: Principal, child_id: uuid.UUID, act) -> Child:
    child = await db.scalar(select(Child).where(Child.id == child_id, act.where(p)))
    if child is None:
        raise NotFound("child")
    return child


async def _guardians(db: AsyncSession, child_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await db.scalars(select(Guardianship.account_id).where(Guardianship.child_id == child_id)))


async def _staff_institution(db: AsyncSession, p: Principal, child_id: uuid.UUID) -> uuid.UUID | None:
    return await db.scalar(
        select(Application.institution_id)
        .where(
            Application.child_id == child_id,
            Application.institution_id.in_(p.institutions()),
            Application.status.in_(P.IN_CARE),
        )
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------- entry checks


def _entry_out(c: EntryHealthCheck, reports: list[uuid.UUID]) -> EntryCheckOut:
    r = json.loads(c.record)
    return EntryCheckOut(
        id=c.id,
        child_id=c.child_id,
        examined_on=c.examined_on,
        hospital=r["hospital"],
        passed=c.passed,
        reasons=r.get("reasons", []),
        items=r.get("items", []),
        source=c.source,  # type: ignore[arg-type]
        report_upload_ids=reports,
        created_at=c.created_at,
    )


async def record_entry_check(
    db: AsyncSession, p: Principal, child_id: uuid.UUID, data: EntryCheckIn, *, by_guardian: bool
) -> EntryCheckOut:
    child = await _child(db, p, child_id, P.ENTRY_MINE if by_guardian else P.RECORD_ENTRY)
    if data.examined_on > local_today() or data.examined_on < child.birth_date:
        raise RuleViolation(
            "The examination date must lie between the birth date and today",
            detail_zh="体检日期须在出生日期与今天之间",
            code="examined_on_out_of_range",
        )
    if not data.passed and not data.reasons:
        raise RuleViolation(
            "A failed check names its reasons", detail_zh="体检不合格时请填写原因", code="entry_check_reasons_required"
        )
    if by_guardian and not data.report_upload_ids:
        raise RuleViolation(
            "Attach the report (an image or a PDF)",
            detail_zh="请上传体检报告（图片或PDF）",
            code="entry_check_report_required",
        )
    check = EntryHealthCheck(
        id=uuid.uuid4(),
        child_id=child.id,
        institution_id=None if by_guardian else await _staff_institution(db, p, child.id),
        recorded_by=p.account_id,
        source="guardian" if by_guardian else "staff",
        examined_on=data.examined_on,
        passed=data.passed,
        record=json.dumps(
            {"hospital": data.hospital, "reasons": list(data.reasons), "items": list(data.items)}, ensure_ascii=False
        ),
    )
    db.add(check)
    await db.flush()
    if data.report_upload_ids:
        await files.attach(
            db,
            owner_id=p.account_id,
            upload_ids=list(data.report_upload_ids),
            purpose=REPORT_PURPOSE,
            subject_type=SUBJECT,
            subject_id=check.id,
        )
    if data.passed:
        # A current check closes the open entry-check item.
        open_items = await db.scalars(
            select(HealthFollowUp).where(
                HealthFollowUp.child_id == child.id,
                HealthFollowUp.kind == "entry_check",
                HealthFollowUp.status == "open",
            )
        )
        for item in open_items:
            item.status, item.closed_at, item.closed_by = "closed", utcnow(), p.account_id
    audit.read_children(db, [child.id])
    return _entry_out(check, list(data.report_upload_ids))


async def _reports(db: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    found = await files.attachments(db, SUBJECT, ids)
    return {subject: [u.id for u in uploads] for subject, uploads in found.items()}


# ---------------------------------------------------------------------------------------------- vaccination


def _vacc_out(v: VaccinationCheck) -> VaccinationCheckOut:
    missing = [
        MissingDose(vaccine=m["vaccine"], dose=m["dose"], name_zh=DOSES[(m["vaccine"], m["dose"])].name_zh)
        for m in json.loads(v.missing)
    ]
    return VaccinationCheckOut(
        id=v.id,
        child_id=v.child_id,
        checked_on=v.checked_on,
        status=v.status,  # type: ignore[arg-type]
        missing=missing,
        catch_up_deadline=v.catch_up_deadline,
        schedule_source=SOURCE,
        created_at=v.created_at,
    )


async def record_vaccination_check(
    db: AsyncSession, p: Principal, child_id: uuid.UUID, data: VaccinationCheckIn
) -> VaccinationCheckOut:
    child = await _child(db, p, child_id, P.RECORD_VACCINATION)
    institution_id = await _staff_institution(db, p, child.id)
    missing = [(m.vaccine, m.dose) for m in data.missing]
    unknown = [f"{v}#{d}" for v, d in missing if (v, d) not in DOSES]
    if unknown:
        raise RuleViolation(
            "Not a dose of the national schedule",
            detail_zh="不是国家免疫规划中的剂次",
            code="dose_unknown",
            extra={"doses": unknown},
        )
    if data.status == "missing" and (not missing or data.catch_up_deadline is None):
        raise RuleViolation(
            "Missing doses need the doses and a catch-up deadline",
            detail_zh="缺种时请选择缺种的疫苗剂次并填写补种期限",
            code="catch_up_incomplete",
        )
    if data.status == "complete" and missing:
        raise RuleViolation(
            "A complete certificate has no missing doses",
            detail_zh="“全程接种”时不应有缺种剂次",
            code="catch_up_inconsistent",
        )
    today = local_today()
    if data.catch_up_deadline is not None and data.catch_up_deadline < today:
        raise RuleViolation("The deadline lies in the past", detail_zh="补种期限不能早于今天", code="deadline_in_past")
    check = VaccinationCheck(
        id=uuid.uuid4(),
        child_id=child.id,
        institution_id=institution_id,
        checked_by=p.account_id,
        checked_on=today,
        status=data.status,
        missing=json.dumps([{"vaccine": v, "dose": d} for v, d in missing]),
        catch_up_deadline=data.catch_up_deadline if data.status == "missing" else None,
    )
    db.add(check)
    await db.flush()
    if data.status == "missing" and institution_id is not None:
        db.add(
            HealthFollowUp(
                id=uuid.uuid4(),
                child_id=child.id,
                institution_id=institution_id,
                kind="vaccination",
                reasons=json.dumps(["catch_up"]),
                status="open",
                due_on=data.catch_up_deadline,
            )
        )
        outbox.emit(
            db,
            "vaccination.catch_up",
            subject_type="child_health",
            subject_id=child.id,
            accounts=await _guardians(db, child.id),
            payload={"title_zh": CATCH_UP_ZH, "title": CATCH_UP},
        )
    elif data.status == "complete":
        for item in await db.scalars(
            select(HealthFollowUp).where(
                HealthFollowUp.child_id == child.id,
                HealthFollowUp.kind == "vaccination",
                HealthFollowUp.status == "open",
            )
        ):
            item.status, item.closed_at, item.closed_by = "closed", utcnow(), p.account_id
    await db.flush()
    audit.read_children(db, [child.id])
    return _vacc_out(check)


# ---------------------------------------------------------------------------------------------- records


async def records(db: AsyncSession, p: Principal, child_id: uuid.UUID, *, guardian: bool) -> HealthRecordsOut:
    child = await _child(db, p, child_id, P.RECORDS_MINE if guardian else P.STAFF_RECORDS)
    entries = list(
        await db.scalars(
            select(EntryHealthCheck)
            .where(EntryHealthCheck.child_id == child.id)
            .order_by(EntryHealthCheck.examined_on.desc(), EntryHealthCheck.created_at.desc())
        )
    )
    reports = await _reports(db, [e.id for e in entries])
    vaccinations = list(
        await db.scalars(
            select(VaccinationCheck)
            .where(VaccinationCheck.child_id == child.id)
            .order_by(VaccinationCheck.checked_on.desc(), VaccinationCheck.created_at.desc())
        )
    )
    audit.read_children(db, [child.id])
    return HealthRecordsOut(
        child_id=child.id,
        entry_checks=[_entry_out(e, reports.get(e.id, [])) for e in entries],
        vaccination_checks=[_vacc_out(v) for v in vaccinations],
    )


# ---------------------------------------------------------------------------------------------- the setting


def _setting_out(institution_id: uuid.UUID, s: InstitutionHealthSetting | None) -> HealthSettingOut:
    if s is None:
        return HealthSettingOut(institution_id=institution_id, entry_check_policy="none", grace_days=0, valid_days=90)
    return HealthSettingOut(
        institution_id=institution_id,
        entry_check_policy=s.entry_check_policy,  # type: ignore[arg-type]
        grace_days=s.grace_days,
        valid_days=s.valid_days,
    )


async def _institution(db: AsyncSession, p: Principal, institution_id: uuid.UUID, act) -> uuid.UUID:
    found = await db.scalar(select(Institution.id).where(Institution.id == institution_id, act.where(p)))
    if found is None:
        raise NotFound("institution")
    return found


async def get_setting(db: AsyncSession, p: Principal, institution_id: uuid.UUID) -> HealthSettingOut:
    inst = await _institution(db, p, institution_id, P.READ_SETTING)
    return _setting_out(inst, await db.get(InstitutionHealthSetting, inst))


async def put_setting(
    db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: HealthSettingIn
) -> HealthSettingOut:
    inst = await _institution(db, p, institution_id, P.SET_SETTING)
    if data.entry_check_policy == "refuse" and data.grace_days:
        raise RuleViolation(
            "A refusing institution has no grace period",
            detail_zh="选择“拒绝入托”时宽限天数须为0",
            code="grace_with_refuse",
        )
    setting = await db.get(InstitutionHealthSetting, inst, with_for_update=True)
    if setting is None:
        setting = InstitutionHealthSetting(institution_id=inst)
        db.add(setting)
    setting.entry_check_policy, setting.grace_days, setting.valid_days = (
        data.entry_check_policy,
        data.grace_days,
        data.valid_days,
    )
    await db.flush()
    return _setting_out(inst, setting)


async def entry_gate(db: AsyncSession, institution_id: uuid.UUID, child_id: uuid.UUID) -> None:
    """Called when a place starts. Refuse (409 ``entry_check_required``) without a current passed entry
    check, or allow it with an open item due in the grace period and a reminder to the guardians."""
    setting = await db.get(InstitutionHealthSetting, institution_id)
    if setting is None:
        return
    today = local_today()
    current = await db.scalar(
        select(EntryHealthCheck.id).where(
            EntryHealthCheck.child_id == child_id,
            EntryHealthCheck.passed.is_(True),
            EntryHealthCheck.examined_on >= today - dt.timedelta(days=setting.valid_days),
        )
    )
    if current is not None:
        return
    if setting.entry_check_policy == "refuse":
        raise Conflict(
            "The child has no current entry health check; care cannot start",
            detail_zh=f"该幼儿没有{setting.valid_days}天内合格的入托体检记录，暂不能入托",
            code="entry_check_required",
        )
    db.add(
        HealthFollowUp(
            id=uuid.uuid4(),
            child_id=child_id,
            institution_id=institution_id,
            kind="entry_check",
            reasons=json.dumps(["entry_check_missing"]),
            status="open",
            due_on=today + dt.timedelta(days=setting.grace_days),
        )
    )
    outbox.emit(
        db,
        "entry_check.reminder",
        subject_type="child_health",
        subject_id=child_id,
        accounts=await _guardians(db, child_id),
        payload={"title_zh": ENTRY_REMINDER_ZH, "title": ENTRY_REMINDER},
    )
