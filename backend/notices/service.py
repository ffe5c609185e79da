"""Notices: posting, scheduling, editing with history, soft deletion, read receipts, consultations.

Events (the outbox; WebSocket, Web Push and history all read it):

* ``notice.published`` when a notice becomes visible (at once, or when the maintenance loop reaches
  its ``publish_at``) — high urgency for urgent notices, so pushes go out even to parents who turned
  notice pushes off;
* ``notice.updated`` when a published notice is edited;
* ``notice.deleted`` (silent: WebSocket only, no push) so open apps drop it.

The audience is fixed when the event is written: the notice's current parents (all, one class's, or
the sitting committee's) plus the institution's staff. Payloads carry ids and a generic title
("新通知 / New notice") — never the author's text, so nothing written by a person leaves through a
push service.

Consultations: one answer per guardian *account* (not per family: two guardians of one child may
see things differently, and the platform has no "household"). An answer can be changed until the
deadline. In anonymous mode the answer row holds no account and no time; a separate row records
*that* the account answered (one answer each), and the answering device gets a receipt whose hash
alone is stored, which it presents to change the answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

import msgspec
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account
from backend.accounts.names import name_columns, shown_name
from backend.committees.models import CommitteeMember
from backend.core.authz import Action, Principal
from backend.core.clock import local_today, utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.core.maintenance import periodic
from backend.core.outbox import emit
from backend.enrolment.links import is_current_parent, parent_accounts
from backend.files import service as files
from backend.institutions.models import CareClass, Institution
from backend.institutions.queries import load_institution
from backend.notices import permissions as P
from backend.notices.markup import render
from backend.notices.models import (
    AUDIENCE_ZH,
    Consultation,
    ConsultationAnswer,
    ConsultationParticipant,
    Notice,
    NoticeRead,
    NoticeRevision,
)
from backend.notices.schemas import (
    AnswerIn,
    AnswerOut,
    AttachmentOut,
    ConsultationIn,
    ConsultationOut,
    InstitutionUnread,
    NoticeDetail,
    NoticeIn,
    NoticeOut,
    NoticePatch,
    OptionCount,
    ReaderOut,
    ReceiptsOut,
    ResultsOut,
    RevisionOut,
    UnreadOut,
)

UPLOAD_PURPOSE = "notice_image"
SUBJECT = "notice"
MAX_SCHEDULE_AHEAD = dt.timedelta(days=366)

# ---------------------------------------------------------------------------------------------- audience


async def audience_accounts(db: AsyncSession, notice: Notice) -> list[uuid.UUID]:
    """The parents a notice is addressed to, as of now."""
    if notice.audience == "committee":
        today = local_today()
        q = select(CommitteeMember.account_id).where(
            CommitteeMember.institution_id == notice.institution_id,
            CommitteeMember.ended_at.is_(None),
            CommitteeMember.term_start <= today,
            CommitteeMember.term_end >= today,
            is_current_parent(CommitteeMember.account_id, notice.institution_id),
        )
    else:
        q = parent_accounts(notice.institution_id, notice.class_id)
    return list((await db.execute(q)).scalars())


_TITLES = {
    "published": ("新通知", "New notice"),
    "published_urgent": ("紧急通知", "Urgent notice"),
    "updated": ("通知已更新", "Notice updated"),
    "deleted": ("通知已撤回", "Notice withdrawn"),
}


async def _emit(db: AsyncSession, notice: Notice, what: str) -> None:
    urgent = notice.urgent and what != "deleted"
    title_zh, title = _TITLES["published_urgent" if urgent and what == "published" else what]
    emit(
        db,
        f"notice.{what}",
        subject_type=SUBJECT,
        subject_id=notice.id,
        accounts=await audience_accounts(db, notice),
        institution_id=notice.institution_id,
        urgency="high" if urgent else "normal",
        payload={
            "notice_id": str(notice.id),
            "institution_id": str(notice.institution_id),
            "audience": notice.audience,
            "class_id": str(notice.class_id) if notice.class_id else None,
            "version": notice.version,
            "urgent": notice.urgent,
            "title_zh": title_zh,
            "title": title,
            **({"silent": True} if what == "deleted" else {}),
        },
    )


async def _publish(db: AsyncSession, notice: Notice) -> None:
    notice.published_at = utcnow()
    await db.flush()
    await _emit(db, notice, "published")


@periodic("notices.publish_due")
async def publish_due(db: AsyncSession, _settings: Settings) -> int:
    """Publish scheduled notices whose time has come (each exactly once: the row lock and the
    ``published_at IS NULL`` condition make a second publisher skip it)."""
    due = (
        await db.execute(
            select(Notice)
            .where(Notice.published_at.is_(None), Notice.deleted_at.is_(None), Notice.publish_at <= func.now())
            .order_by(Notice.publish_at)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).scalars()
    count = 0
    for notice in list(due):
        await _publish(db, notice)
        count += 1
    return count


# ---------------------------------------------------------------------------------------------- writing


def _bad_times(en: str, zh: str, code: str) -> RuleViolation:
    return RuleViolation(en, detail_zh=zh, code=code)


def _check_times(publish_at: dt.datetime, expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if publish_at > now + MAX_SCHEDULE_AHEAD:
        raise _bad_times("A notice can be scheduled at most a year ahead", "定时发布最多提前一年", "publish_too_late")
    if expires_at is not None and expires_at <= max(publish_at, now):
        raise _bad_times("The expiry must be after publication", "过期时间须晚于发布时间", "expires_before_publish")


def _check_consultation(c: ConsultationIn, publish_at: dt.datetime, expires_at: dt.datetime | None) -> None:
    if c.choice_mode == "none":
        if c.options or not c.allow_text:
            raise RuleViolation(
                "A question without choices takes free text and has no options",
                detail_zh="无选项的征求意见须允许文字回答，且不能设置选项",
                code="consultation_shape",
            )
    else:
        if not 2 <= len(c.options) <= 10:
            raise RuleViolation(
                "Give between 2 and 10 options", detail_zh="请设置2至10个选项", code="consultation_shape"
            )
        if len({o.strip() for o in c.options}) != len(c.options) or any(not o.strip() for o in c.options):
            raise RuleViolation(
                "Options must be distinct and not blank", detail_zh="选项不能重复或为空", code="consultation_shape"
            )
    if c.deadline <= max(publish_at, utcnow()):
        raise RuleViolation(
            "The deadline must be after publication", detail_zh="截止时间须晚于发布时间", code="deadline_before_publish"
        )
    if expires_at is not None and c.deadline > expires_at:
        raise RuleViolation(
            "The deadline must not be after the notice expires",
            detail_zh="截止时间不能晚于通知过期时间",
            code="deadline_after_expiry",
        )


def _revision(notice: Notice, editor: uuid.UUID) -> NoticeRevision:
    return NoticeRevision(
        notice_id=notice.id,
        version=notice.version,
        title=notice.title,
        body=notice.body,
        body_format=notice.body_format,
        pinned=notice.pinned,
        urgent=notice.urgent,
        publish_at=notice.publish_at,
        expires_at=notice.expires_at,
        edited_by=editor,
    )


async def create(db: AsyncSession, p: Principal, institution_id: uuid.UUID, data: NoticeIn) -> uuid.UUID:
    await load_institution(db, p, institution_id, P.CREATE)
    posted_as = "staff" if institution_id in p.institutions() else "committee"
    if posted_as == "committee" and data.audience == "class":
        raise RuleViolation(
            "The committee posts to all parents or to the committee",
            detail_zh="家长委员会只能向全体家长或家委会成员发布通知",
            code="audience_not_allowed",
        )
    if data.audience == "class":
        if data.class_id is None:
            raise RuleViolation("Choose the class", detail_zh="请选择班级", code="class_required")
        found = await db.scalar(
            select(CareClass.id).where(CareClass.id == data.class_id, CareClass.institution_id == institution_id)
        )
        if found is None:
            raise RuleViolation("No such class here", detail_zh="本机构没有该班级", code="unknown_class")
    elif data.class_id is not None:
        raise RuleViolation(
            "A class is given only for class notices", detail_zh="仅班级通知需要选择班级", code="class_not_expected"
        )
    now = utcnow()
    publish_at = max(data.publish_at or now, now)
    expires_at = data.expires_at
    _check_times(publish_at, expires_at, now)
    if data.consultation is not None:
        _check_consultation(data.consultation, publish_at, expires_at)

    notice = Notice(
        id=uuid.uuid4(),
        institution_id=institution_id,
        audience=data.audience,
        class_id=data.class_id,
        author_id=p.account_id,
        posted_as=posted_as,
        title=data.title.strip(),
        body=data.body,
        body_format=data.body_format,
        body_html=render(data.body, data.body_format),
        pinned=data.pinned,
        urgent=data.urgent,
        publish_at=publish_at,
        expires_at=expires_at,
        version=1,
    )
    db.add(notice)
    await db.flush()
    db.add(_revision(notice, p.account_id))
    if data.consultation is not None:
        c = data.consultation
        db.add(
            Consultation(
                notice_id=notice.id,
                question=c.question.strip(),
                choice_mode=c.choice_mode,
                options=[o.strip() for o in c.options],
                allow_text=c.allow_text,
                deadline=c.deadline,
                anonymous=c.anonymous,
            )
        )
    if data.attachment_ids:
        await files.attach(
            db,
            owner_id=p.account_id,
            upload_ids=data.attachment_ids,
            purpose=UPLOAD_PURPOSE,
            subject_type=SUBJECT,
            subject_id=notice.id,
        )
    await db.flush()
    if publish_at <= now:
        await _publish(db, notice)
    return notice.id


async def _load_for(db: AsyncSession, p: Principal, notice_id: uuid.UUID, act: Action, *, lock: bool = False) -> Notice:
    q = select(Notice).where(Notice.id == notice_id, act.where(p))
    if lock:
        q = q.with_for_update(of=Notice)
    notice = (await db.execute(q)).scalar_one_or_none()
    if notice is None:
        raise NotFound("notice")
    return notice


async def edit(db: AsyncSession, p: Principal, notice_id: uuid.UUID, data: NoticePatch) -> None:
    notice = await _load_for(db, p, notice_id, P.EDIT, lock=True)
    fields = {k: v for k, v in ((f, getattr(data, f)) for f in data.__struct_fields__) if v is not msgspec.UNSET}
    if not fields:
        raise RuleViolation("Nothing to change", detail_zh="没有需要修改的内容", code="nothing_to_change")
    now = utcnow()
    was_published = notice.published_at is not None
    if "publish_at" in fields:
        if was_published:
            raise RuleViolation(
                "The notice is already published", detail_zh="通知已发布，不能修改发布时间", code="already_published"
            )
        fields["publish_at"] = max(fields["publish_at"], now)
    publish_at = fields.get("publish_at", notice.publish_at)
    expires_at = fields.get("expires_at", notice.expires_at)
    if "publish_at" in fields or "expires_at" in fields:
        _check_times(publish_at, expires_at, now)
    attachment_ids = fields.pop("attachment_ids", None)
    for name, value in fields.items():
        setattr(notice, name, value.strip() if name == "title" else value)
    notice.body_html = render(notice.body, notice.body_format)
    notice.version += 1
    notice.updated_at = now
    await db.flush()
    db.add(_revision(notice, p.account_id))
    if attachment_ids is not None:
        await files.attach(
            db,
            owner_id=p.account_id,
            upload_ids=attachment_ids,
            purpose=UPLOAD_PURPOSE,
            subject_type=SUBJECT,
            subject_id=notice.id,
        )
    await db.flush()
    if was_published:
        await _emit(db, notice, "updated")
    elif notice.publish_at <= now:
        await _publish(db, notice)


async def remove(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> None:
    notice = await _load_for(db, p, notice_id, P.DELETE, lock=True)
    notice.deleted_at = utcnow()
    notice.deleted_by = p.account_id
    await db.flush()
    if notice.published_at is not None:
        await _emit(db, notice, "deleted")


# ---------------------------------------------------------------------------------------------- reading


def _status(notice: Notice, now: dt.datetime) -> str:
    if notice.deleted_at is not None:
        return "deleted"
    if notice.published_at is None:
        return "scheduled"
    if notice.expires_at is not None and notice.expires_at <= now:
        return "expired"
    return "published"


def _listing(p: Principal) -> Any:
    read_at = (
        select(NoticeRead.read_at)
        .where(NoticeRead.notice_id == Notice.id, NoticeRead.account_id == p.account_id)
        .scalar_subquery()
    )
    return (
        select(
            Notice,
            Institution.name.label("institution_name"),
            read_at.label("read_at"),
            exists().where(Consultation.notice_id == Notice.id).label("has_consultation"),
        )
        .join(Institution, Institution.id == Notice.institution_id)
        .order_by(
            and_(Notice.pinned, P.live()).desc(),
            func.coalesce(Notice.published_at, Notice.publish_at).desc(),
            Notice.id,
        )
    )


def _out(row: Any, now: dt.datetime, cls: type[NoticeOut] = NoticeOut, **extra: Any) -> Any:
    n: Notice = row[0]
    return cls(
        id=n.id,
        institution_id=n.institution_id,
        institution_name=row.institution_name,
        audience=n.audience,  # type: ignore[arg-type]
        audience_zh=AUDIENCE_ZH[n.audience],
        class_id=n.class_id,
        posted_as=n.posted_as,  # type: ignore[arg-type]
        title=n.title,
        pinned=n.pinned,
        urgent=n.urgent,
        status=_status(n, now),  # type: ignore[arg-type]
        publish_at=n.publish_at,
        published_at=n.published_at,
        expires_at=n.expires_at,
        version=n.version,
        updated_at=n.updated_at,
        has_consultation=bool(row.has_consultation),
        read_at=row.read_at,
        **extra,
    )


async def institution_notices(
    db: AsyncSession,
    p: Principal,
    institution_id: uuid.UUID,
    *,
    include_deleted: bool,
    limit: int,
    offset: int,
) -> list[NoticeOut]:
    staff = institution_id in p.institutions()
    if not staff and not await db.scalar(select(is_current_parent(p.account_id, institution_id))):
        raise NotFound("institution")
    q = _listing(p).where(Notice.institution_id == institution_id, P.LIST.where(p))
    if not (staff and include_deleted):
        q = q.where(Notice.deleted_at.is_(None))
    now = utcnow()
    return [_out(r, now) for r in (await db.execute(q.limit(limit).offset(offset))).all()]


async def feed(db: AsyncSession, p: Principal, *, unread_only: bool, limit: int, offset: int) -> list[NoticeOut]:
    q = _listing(p).where(P.FEED.where(p))
    if unread_only:
        q = q.where(~exists().where(NoticeRead.notice_id == Notice.id, NoticeRead.account_id == p.account_id))
    now = utcnow()
    return [_out(r, now) for r in (await db.execute(q.limit(limit).offset(offset))).all()]


async def unread(db: AsyncSession, p: Principal) -> UnreadOut:
    rows = (
        await db.execute(
            select(
                Institution.id,
                Institution.name,
                func.count().label("unread"),
                func.count().filter(Notice.urgent).label("urgent"),
            )
            .join(Institution, Institution.id == Notice.institution_id)
            .where(
                P.UNREAD.where(p),
                ~exists().where(NoticeRead.notice_id == Notice.id, NoticeRead.account_id == p.account_id),
            )
            .group_by(Institution.id, Institution.name)
            .order_by(Institution.name)
        )
    ).all()
    items = [
        InstitutionUnread(institution_id=r.id, institution_name=r.name, unread=r.unread, urgent_unread=r.urgent)
        for r in rows
    ]
    return UnreadOut(total=sum(i.unread for i in items), urgent=sum(i.urgent_unread for i in items), institutions=items)


async def detail(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> NoticeDetail:
    row = (await db.execute(_listing(p).where(Notice.id == notice_id, P.READ.where(p)))).one_or_none()
    if row is None:
        raise NotFound("notice")
    notice: Notice = row[0]
    uploads = (await files.attachments(db, SUBJECT, [notice.id])).get(notice.id, [])
    return _out(
        row,
        utcnow(),
        NoticeDetail,
        body=notice.body,
        body_format=notice.body_format,
        body_html=notice.body_html,
        attachments=[
            AttachmentOut(
                id=u.id,
                url=f"/api/notices/{notice.id}/attachments/{u.id}",
                content_type=u.content_type,
                width=u.width,
                height=u.height,
            )
            for u in uploads
        ],
        consultation=await _consultation_view(db, p, notice.id),
        deleted_at=notice.deleted_at,
    )


async def _consultation_view(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> ConsultationOut | None:
    c = await db.get(Consultation, notice_id)
    if c is None:
        return None
    mine = None
    if c.anonymous:
        answered = bool(
            await db.scalar(
                select(
                    exists().where(
                        ConsultationParticipant.notice_id == notice_id,
                        ConsultationParticipant.account_id == p.account_id,
                    )
                )
            )
        )
    else:
        mine = (
            await db.execute(
                select(ConsultationAnswer).where(
                    ConsultationAnswer.notice_id == notice_id, ConsultationAnswer.account_id == p.account_id
                )
            )
        ).scalar_one_or_none()
        answered = mine is not None
    return ConsultationOut(
        question=c.question,
        choice_mode=c.choice_mode,  # type: ignore[arg-type]
        options=list(c.options),
        allow_text=c.allow_text,
        deadline=c.deadline,
        anonymous=c.anonymous,
        open=c.deadline > utcnow(),
        answered=answered,
        my_choices=list(mine.choices) if mine else None,
        my_text=mine.free_text if mine else None,
    )


async def attachment(
    db: AsyncSession, storage: Any, p: Principal, notice_id: uuid.UUID, upload_id: uuid.UUID
) -> tuple[bytes, str]:
    await _load_for(db, p, notice_id, P.ATTACHMENT)
    return await files.read_attachment(db, storage, subject_type=SUBJECT, subject_id=notice_id, upload_id=upload_id)


async def revisions(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> list[RevisionOut]:
    await _load_for(db, p, notice_id, P.REVISIONS)
    rows = await db.execute(
        select(NoticeRevision, *name_columns())
        .join(Account, Account.id == NoticeRevision.edited_by)
        .where(NoticeRevision.notice_id == notice_id)
        .order_by(NoticeRevision.version.desc())
    )
    return [
        RevisionOut(
            version=r[0].version,
            title=r[0].title,
            body=r[0].body,
            body_format=r[0].body_format,  # type: ignore[arg-type]
            pinned=r[0].pinned,
            urgent=r[0].urgent,
            publish_at=r[0].publish_at,
            expires_at=r[0].expires_at,
            edited_by=shown_name(r.display_name, r.phone, r.email),
            edited_at=r[0].edited_at,
        )
        for r in rows.all()
    ]


# ---------------------------------------------------------------------------------------------- receipts


async def mark_read(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> dt.datetime:
    await _load_for(db, p, notice_id, P.MARK_READ)
    await db.execute(
        insert(NoticeRead)
        .values(notice_id=notice_id, account_id=p.account_id)
        .on_conflict_do_nothing(index_elements=["notice_id", "account_id"])
    )
    read_at = await db.scalar(
        select(NoticeRead.read_at).where(NoticeRead.notice_id == notice_id, NoticeRead.account_id == p.account_id)
    )
    assert read_at is not None
    return read_at


async def receipts(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> ReceiptsOut:
    notice = await _load_for(db, p, notice_id, P.RECEIPTS)
    audience = await audience_accounts(db, notice)
    rows = (
        await db.execute(
            select(Account.id, *name_columns(), NoticeRead.read_at)
            .outerjoin(NoticeRead, and_(NoticeRead.account_id == Account.id, NoticeRead.notice_id == notice_id))
            .where(Account.id.in_(audience))
            .order_by(Account.display_name.nulls_last(), Account.id)
        )
    ).all()
    read = [r for r in rows if r.read_at is not None]
    return ReceiptsOut(
        notice_id=notice_id,
        audience_count=len(rows),
        read_count=len(read),
        not_read=[
            ReaderOut(account_id=r.id, name=shown_name(r.display_name, r.phone, r.email), read_at=None)
            for r in rows
            if r.read_at is None
        ],
    )


# ---------------------------------------------------------------------------------------------- consultations


def _receipt_hash(receipt: str) -> bytes:
    return hashlib.sha256(receipt.encode()).digest()


def _check_answer(c: Consultation, data: AnswerIn) -> tuple[list[int], str | None]:
    choices = list(data.choices)
    text = (data.text or "").strip() or None
    if len(set(choices)) != len(choices) or any(i >= len(c.options) for i in choices):
        raise RuleViolation("Choose among the options given", detail_zh="请从给出的选项中选择", code="bad_choice")
    if c.choice_mode == "single" and len(choices) > 1:
        raise RuleViolation("Choose one option", detail_zh="此问题只能选择一项", code="bad_choice")
    if text is not None and not c.allow_text:
        raise RuleViolation("This question takes no text", detail_zh="此问题不接受文字意见", code="text_not_allowed")
    if not choices and text is None:
        raise RuleViolation("The answer is empty", detail_zh="请填写意见", code="empty_answer")
    return sorted(choices), text


async def answer(db: AsyncSession, p: Principal, notice_id: uuid.UUID, data: AnswerIn) -> AnswerOut:
    await _load_for(db, p, notice_id, P.ANSWER)
    c = await db.get(Consultation, notice_id)
    if c is None:
        raise NotFound("consultation")
    if c.deadline <= utcnow():
        raise RuleViolation("The consultation has closed", detail_zh="征求意见已截止", code="consultation_closed")
    choices, text = _check_answer(c, data)
    if not c.anonymous:
        if data.receipt is not None:
            raise RuleViolation(
                "Receipts are for anonymous consultations", detail_zh="此征求意见不使用回执", code="no_receipt"
            )
        await db.execute(
            insert(ConsultationAnswer)
            .values(
                notice_id=notice_id, account_id=p.account_id, choices=choices, free_text=text, answered_at=func.now()
            )
            .on_conflict_do_update(
                constraint="uq_consultation_answers_one_per_account",
                set_={"choices": choices, "free_text": text, "answered_at": func.now()},
            )
        )
        return AnswerOut(choices=choices, text=text, anonymous=False)

    if data.receipt is not None:
        changed = await db.scalar(
            update(ConsultationAnswer)
            .where(
                ConsultationAnswer.notice_id == notice_id,
                ConsultationAnswer.receipt_hash == _receipt_hash(data.receipt),
            )
            .values(choices=choices, free_text=text)
            .returning(ConsultationAnswer.id)
        )
        if changed is None:
            raise NotFound("answer for this receipt")
        return AnswerOut(choices=choices, text=text, anonymous=True)
    already = await db.scalar(
        insert(ConsultationParticipant)
        .values(notice_id=notice_id, account_id=p.account_id)
        .on_conflict_do_nothing()
        .returning(ConsultationParticipant.account_id)
    )
    if already is None:
        raise Conflict(
            "You have already answered; use your receipt to change the answer",
            detail_zh="您已提交过意见；如需修改，请使用提交时获得的回执",
            code="already_answered",
        )
    receipt = secrets.token_urlsafe(32)
    db.add(
        ConsultationAnswer(
            id=uuid.uuid4(), notice_id=notice_id, receipt_hash=_receipt_hash(receipt), choices=choices, free_text=text
        )
    )
    await db.flush()
    return AnswerOut(choices=choices, text=text, anonymous=True, receipt=receipt)


async def results(db: AsyncSession, p: Principal, notice_id: uuid.UUID) -> ResultsOut:
    notice = await _load_for(db, p, notice_id, P.RESULTS)
    c = await db.get(Consultation, notice_id)
    if c is None:
        raise NotFound("consultation")
    picked = (
        select(func.unnest(ConsultationAnswer.choices).label("i"))
        .where(ConsultationAnswer.notice_id == notice_id)
        .subquery()
    )
    counts = dict((await db.execute(select(picked.c.i, func.count()).group_by(picked.c.i))).all())
    answered = await db.scalar(select(func.count()).where(ConsultationAnswer.notice_id == notice_id)) or 0
    texts = list(
        (
            await db.execute(
                select(ConsultationAnswer.free_text)
                .where(ConsultationAnswer.notice_id == notice_id, ConsultationAnswer.free_text.is_not(None))
                # anonymous answers have no time: order by content, so row order reveals nothing
                .order_by(ConsultationAnswer.answered_at if not c.anonymous else ConsultationAnswer.free_text)
            )
        ).scalars()
    )
    return ResultsOut(
        notice_id=notice_id,
        question=c.question,
        anonymous=c.anonymous,
        deadline=c.deadline,
        open=c.deadline > utcnow(),
        eligible=len(await audience_accounts(db, notice)),
        answered=answered,
        options=[OptionCount(index=i, option=o, count=counts.get(i, 0)) for i, o in enumerate(c.options)],
        texts=[t for t in texts if t],
    )
