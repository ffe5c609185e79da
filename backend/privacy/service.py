"""Export and erasure of a family's data (PIPL arts. 45 and 47).

**Export** gathers, through the ORM (children's names and birth dates are decrypted by their column
type), every record that names the caller's account or one of the children they are a guardian of.
Each record is dumped generically from its mapped columns, so a column added later is exported too;
byte values (password and token digests, ciphertexts) and a short list of secrets are left out.

**Erasure** runs in the request's one transaction, in this order:

1. confirm (password, or a fresh SMS code) — refused attempts are counted like sign-in failures;
2. for each child of whom the caller is the **only** guardian: withdraw live applications and cancel
   future bookings *through the enrolment and booking services* (places are released, the waitlist is
   served, outbox events tell the institution), then delete the child (its guardianships, consents and
   the application and booking rows go with it by cascade);
3. children with other guardians keep their records: only the caller's guardianship and consents go;
4. the caller's future guidance registrations are cancelled through the guidance service;
5. complaints filed under the account are kept for the officers but detached (``reporter_id`` NULL);
6. push subscriptions, notification preferences, sessions (so every device is signed out), the WeChat
   binding (openid, unionid, subscriptions), notice read receipts, named consultation answers, room ratings and role grants are deleted; live
   committee memberships are ended; uploads and room suggestions are detached;
7. the account becomes a tombstone: no phone, e-mail, name or password, ``erased_at`` set (other
   families' records may still point at it; the retention job deletes it when none does).

A booking that can no longer be cancelled (it starts within the cancellation cutoff or is under way)
makes the erasure refuse (409) rather than break the slot counters: try again after it ends. Erasing
an account that is already erased does nothing. The audit log keeps the erasure (an entry listing
the rows changed, never their values) and everything it held before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from backend.accounts import service as accounts
from backend.accounts.models import Account, AuthSession, RoleGrant
from backend.bookings import service as bookings
from backend.bookings.models import Booking, BookingStatus
from backend.childhealth.models import (
    ChildHealthProfile,
    DailyHealthCheck,
    EntryHealthCheck,
    GrowthMeasurement,
    HealthFollowUp,
    VaccinationCheck,
)
from backend.committees.models import CommitteeMember
from backend.complaints.models import Complaint, ComplaintUpdate
from backend.core import ratelimit, tx
from backend.core.authz import Principal, Role
from backend.core.clock import local_today, utcnow
from backend.core.config import Settings
from backend.core.errors import Conflict, Forbidden, RuleViolation, Unauthenticated
from backend.core.security import check_password
from backend.enrolment import service as enrolment
from backend.enrolment.models import ACTIVE, Application
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.favourites.models import Favourite
from backend.files.models import Upload
from backend.guidance import service as guidance
from backend.guidance.models import GuidanceEvent, GuidanceRegistration, RegistrationStatus
from backend.institutions.rules import age_in_months
from backend.notices.models import ConsultationAnswer, ConsultationParticipant, NoticeRead
from backend.notify.models import NotifyDelivery
from backend.privacy.schemas import ErasureOut, FamilyExport
from backend.realtime.models import NotificationPreference, PushSubscription
from backend.rooms.models import RoomRating, RoomSuggestion
from backend.wechat.models import WeChatIdentity, WeChatSubscription

ERASE_REASON = "家长删除本人及子女数据 / the family erased its data"
CONFIRM_LIMIT_PER_HOUR = 5
HOUR = 3600
# Secrets and internal notes that are not the family's data to take away.
_LEFT_OUT = {
    "accounts": {"password_hash"},
    "push_subscriptions": {"p256dh", "auth"},
    "notify_deliveries": {"link_token"},
    "complaint_updates": {"internal_note", "officer_id"},
}


def _row(obj: DeclarativeBase, **extra: Any) -> dict[str, Any]:
    """A record's mapped columns (decrypted by their types), without bytes and left-out secrets."""
    table = obj.__table__.name  # type: ignore[attr-defined]
    skip = _LEFT_OUT.get(table, set())
    out: dict[str, Any] = {}
    for attr in obj.__mapper__.column_attrs:
        if attr.key in skip:
            continue
        value = getattr(obj, attr.key)
        if isinstance(value, bytes | bytearray | memoryview):
            continue
        out[attr.key] = value
    out.update(extra)
    return out


async def _all(db: AsyncSession, stmt: Any) -> list[Any]:
    return list((await db.execute(stmt)).scalars())


# ---------------------------------------------------------------------------------------------- export


async def export(db: AsyncSession, p: Principal) -> FamilyExport:
    me = p.account_id
    account = await db.get(Account, me)
    if account is None or account.erased_at is not None:  # pragma: no cover - its sessions are gone
        raise Unauthenticated()
    child_ids, children = await _children(db, me)
    complaints = await _complaints(db, me)
    return FamilyExport(
        exported_at=utcnow(),
        account=_row(account),
        **await _sign_in_records(db, me),
        children=children,
        **await _children_records(db, me, child_ids),
        complaints=complaints,
        **await _notification_records(db, me),
        **await _community_records(db, me),
        **await _files_and_wechat(db, me),
        **await _health_records(db, child_ids),
    )


async def _children(db: AsyncSession, me: uuid.UUID) -> tuple[list[uuid.UUID], list[dict[str, Any]]]:
    """The ids of the account's children, and the children (with the account's relation and their age)."""
    relation = {
        g.child_id: g.relation for g in await _all(db, select(Guardianship).where(Guardianship.account_id == me))
    }
    child_ids = list(relation)
    today = local_today()
    children = sorted(
        (
            _row(c, relation=relation[c.id], age_months=age_in_months(c.birth_date, today))
            for c in await _all(db, select(Child).where(Child.id.in_(child_ids)))
        ),
        key=lambda c: (str(c["birth_date"]), str(c["id"])),
    )
    return child_ids, children


async def _complaints(db: AsyncSession, me: uuid.UUID) -> list[dict[str, Any]]:
    """The complaints the account filed, each with its updates."""
    complaints = await _all(db, select(Complaint).where(Complaint.reporter_id == me).order_by(Complaint.created_at))
    updates: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for u in await _all(
        db,
        select(ComplaintUpdate)
        .where(ComplaintUpdate.complaint_id.in_([c.id for c in complaints]))
        .order_by(ComplaintUpdate.id),
    ):
        updates.setdefault(u.complaint_id, []).append(_row(u))
    return [_row(c, updates=updates.get(c.id, [])) for c in complaints]


async def _sign_in_records(db: AsyncSession, me: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    return {
        "roles": [_row(g) for g in await _all(db, select(RoleGrant).where(RoleGrant.account_id == me))],
        "sessions": [
            _row(s)
            for s in await _all(
                db, select(AuthSession).where(AuthSession.account_id == me).order_by(AuthSession.created_at)
            )
        ],
    }


async def _children_records(
    db: AsyncSession, me: uuid.UUID, child_ids: list[uuid.UUID]
) -> dict[str, list[dict[str, Any]]]:
    """The records of the account's children, or that the account made (consents, applications, bookings,
    guidance registrations)."""

    def mine_or_children(column: Any, owner: Any) -> Any:
        return column.in_(child_ids) | (owner == me)

    async def rows(model: Any, child: Any, owner: Any, *order: Any) -> list[dict[str, Any]]:
        stmt = select(model).where(mine_or_children(child, owner))
        return [_row(r) for r in await _all(db, stmt.order_by(*order) if order else stmt)]

    return {
        "guardianships": [
            _row(g) for g in await _all(db, select(Guardianship).where(Guardianship.child_id.in_(child_ids)))
        ],
        "guardian_consents": await rows(GuardianConsent, GuardianConsent.child_id, GuardianConsent.account_id),
        "applications": await rows(
            Application, Application.child_id, Application.applicant_id, Application.submitted_at
        ),
        "bookings": await rows(Booking, Booking.child_id, Booking.booked_by, Booking.starts_at),
        "guidance_registrations": await rows(
            GuidanceRegistration,
            GuidanceRegistration.child_id,
            GuidanceRegistration.account_id,
            GuidanceRegistration.created_at,
        ),
    }


async def _notification_records(db: AsyncSession, me: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    return {
        "notification_preferences": [
            _row(n)
            for n in await _all(db, select(NotificationPreference).where(NotificationPreference.account_id == me))
        ],
        "push_subscriptions": [
            _row(s) for s in await _all(db, select(PushSubscription).where(PushSubscription.account_id == me))
        ],
        "notification_deliveries": [
            _row(d)
            for d in await _all(
                db, select(NotifyDelivery).where(NotifyDelivery.account_id == me).order_by(NotifyDelivery.id)
            )
        ],
    }


async def _community_records(db: AsyncSession, me: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Committees, notices and consultations, rooms, favourites."""
    return {
        "committee_memberships": [
            _row(m) for m in await _all(db, select(CommitteeMember).where(CommitteeMember.account_id == me))
        ],
        "notice_reads": [_row(n) for n in await _all(db, select(NoticeRead).where(NoticeRead.account_id == me))],
        "consultation_answers": [
            _row(a) for a in await _all(db, select(ConsultationAnswer).where(ConsultationAnswer.account_id == me))
        ],
        "room_ratings": [_row(r) for r in await _all(db, select(RoomRating).where(RoomRating.account_id == me))],
        "room_suggestions": [
            _row(s) for s in await _all(db, select(RoomSuggestion).where(RoomSuggestion.suggested_by == me))
        ],
        "favourites": [
            _row(f)
            for f in await _all(db, select(Favourite).where(Favourite.account_id == me).order_by(Favourite.created_at))
        ],
    }


async def _files_and_wechat(db: AsyncSession, me: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    return {
        "uploads": [_row(u) for u in await _all(db, select(Upload).where(Upload.owner_id == me))],
        "wechat_identities": [
            _row(w) for w in await _all(db, select(WeChatIdentity).where(WeChatIdentity.account_id == me))
        ],
        "wechat_subscriptions": [
            _row(w) for w in await _all(db, select(WeChatSubscription).where(WeChatSubscription.account_id == me))
        ],
    }


async def _health_records(db: AsyncSession, child_ids: list[uuid.UUID]) -> dict[str, list[dict[str, Any]]]:
    """The children's health records (backend/childhealth), each table in the order it was recorded."""

    async def rows(model: Any, *order: Any) -> list[dict[str, Any]]:
        return [_row(r) for r in await _all(db, select(model).where(model.child_id.in_(child_ids)).order_by(*order))]

    return {
        "health_profiles": await rows(ChildHealthProfile, ChildHealthProfile.child_id),
        "growth_measurements": await rows(GrowthMeasurement, GrowthMeasurement.measured_on, GrowthMeasurement.id),
        "health_follow_ups": await rows(HealthFollowUp, HealthFollowUp.created_at, HealthFollowUp.id),
        "daily_health_checks": await rows(
            DailyHealthCheck, DailyHealthCheck.check_date, DailyHealthCheck.session, DailyHealthCheck.id
        ),
        "entry_health_checks": await rows(EntryHealthCheck, EntryHealthCheck.examined_on, EntryHealthCheck.id),
        "vaccination_checks": await rows(VaccinationCheck, VaccinationCheck.checked_on, VaccinationCheck.id),
    }


# ---------------------------------------------------------------------------------------------- erasure


async def confirm(
    db: AsyncSession, settings: Settings, account: Account, password: str | None, code: str | None, client: str
) -> None:
    """The holder confirms with their password or a fresh SMS code; failures are counted and refused."""
    if (password is None) == (code is None):
        raise RuleViolation(
            "Confirm with either your password or an SMS code",
            detail_zh="请输入登录密码或短信验证码以确认",
            code="confirmation_required",
        )
    refused = Forbidden(
        "The confirmation is wrong; nothing was erased",
        detail_zh="确认信息有误，数据未删除",
        code="confirmation_failed",
    )
    if password is not None:
        await ratelimit.enforce(
            db, settings.secret_key, f"erase:{account.id}", limit=CONFIRM_LIMIT_PER_HOUR, window_s=HOUR
        )
        if not await check_password(account.password_hash, password):
            await tx.commit_before_refusing(db)  # keep the failure count
            raise refused
        return
    if account.phone is None:
        raise RuleViolation(
            "This account has no phone number; confirm with your password",
            detail_zh="该账号未绑定手机号，请使用密码确认",
            code="confirmation_required",
        )
    try:
        await accounts.verify_code(db, settings, account.phone, code or "", client)  # counts and commits failures
    except Unauthenticated:
        raise refused from None


async def _only_guardian_children(db: AsyncSession, me: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The caller's children, split into those with no other guardian and those with one; the
    caller's guardianships and the children are locked for the rest of the erasure."""
    mine = list(
        (
            await db.execute(
                select(Guardianship.child_id)
                .where(Guardianship.account_id == me)
                .order_by(Guardianship.child_id)
                .with_for_update()
            )
        ).scalars()
    )
    if not mine:
        return [], []
    # Lock the children too (the account row is locked already). A booking, application or
    # registration inserted meanwhile holds, or waits for, a key-share lock on its account and child
    # (the foreign keys), so it either commits before the scans below see it, or waits for this
    # erasure and then fails on the deleted child: it never slips in between and is cascaded away
    # without giving its place back (tests/privacy/test_erase_race.py).
    await db.execute(select(Child.id).where(Child.id.in_(mine)).order_by(Child.id).with_for_update())
    shared = set(
        (
            await db.execute(
                select(Guardianship.child_id).where(Guardianship.child_id.in_(mine), Guardianship.account_id != me)
            )
        ).scalars()
    )
    return [c for c in mine if c not in shared], [c for c in mine if c in shared]


async def _release_places(
    db: AsyncSession, settings: Settings, p: Principal, child_ids: Iterable[uuid.UUID]
) -> tuple[int, int]:
    """Withdraw live applications and cancel future bookings of these children through the services."""
    ids = list(child_ids)
    withdrawn = cancelled = 0
    if not ids:
        return 0, 0
    for app_id in await _all(
        db,
        select(Application.id)
        .where(Application.child_id.in_(ids), Application.status.in_([str(s) for s in ACTIVE]))
        .order_by(Application.id),
    ):
        await enrolment.withdraw(db, settings, p, app_id, ERASE_REASON)
        withdrawn += 1
    now = utcnow()
    live = await _all(
        db,
        select(Booking)
        .where(Booking.child_id.in_(ids), Booking.status == BookingStatus.BOOKED, Booking.ends_at > now)
        .order_by(Booking.starts_at),
    )
    for booking in live:
        if now > bookings.cancellable_until(settings, booking):
            raise Conflict(
                "A booking starts soon or is under way and can no longer be cancelled; erase after it ends",
                detail_zh="有一个预约即将开始或正在进行，已不能取消；请在预约结束后再删除数据",
                code="booking_in_progress",
                extra={"booking_id": str(booking.id)},
            )
    for booking in live:
        await bookings.cancel(db, settings, p, booking.id, ERASE_REASON)
        cancelled += 1
    return withdrawn, cancelled


async def _cancel_registrations(db: AsyncSession, p: Principal) -> int:
    upcoming = await _all(
        db,
        select(GuidanceRegistration.id)
        .join(GuidanceEvent, GuidanceEvent.id == GuidanceRegistration.event_id)
        .where(
            GuidanceRegistration.account_id == p.account_id,
            GuidanceRegistration.status == RegistrationStatus.REGISTERED,
            GuidanceEvent.starts_at > utcnow(),
        )
        .order_by(GuidanceRegistration.id),
    )
    for reg_id in upcoming:
        await guidance.cancel_registration(db, p, reg_id)
    return len(upcoming)


async def erase(db: AsyncSession, settings: Settings, p: Principal) -> ErasureOut:
    """Erase the caller's family data (confirmation already checked); the caller commits. Idempotent:
    an account already erased is left as it is."""
    me = p.account_id
    # The account row first: every booking, application or registration of this account takes a
    # key-share lock on it (its foreign key), which this lock waits for or makes wait.
    account = (await db.execute(select(Account).where(Account.id == me).with_for_update())).scalar_one_or_none()
    if account is None or account.erased_at is not None:
        return ErasureOut(
            erased_at=account.erased_at if account and account.erased_at else utcnow(),
            children_deleted=0,
            guardianships_removed=0,
            applications_withdrawn=0,
            bookings_cancelled=0,
            guidance_registrations_cancelled=0,
            complaints_detached=0,
        )
    roles = set((await db.execute(select(RoleGrant.role).where(RoleGrant.account_id == me))).scalars())
    if roles - {Role.PARENT}:
        raise Conflict(
            "Staff and officer accounts are closed by their organisation, not erased here",
            detail_zh="工作人员账号须由所在单位注销，不能在此删除",
            code="not_a_family_account",
        )
    sole, _shared = await _only_guardian_children(db, me)
    withdrawn, cancelled = await _release_places(db, settings, p, sole)
    registrations = await _cancel_registrations(db, p)

    if sole:
        await db.execute(delete(Child).where(Child.id.in_(sole)))  # guardianships, consents, rows cascade
    await db.execute(delete(GuardianConsent).where(GuardianConsent.account_id == me))
    removed = (await db.execute(delete(Guardianship).where(Guardianship.account_id == me))).rowcount or 0
    detached = (
        await db.execute(update(Complaint).where(Complaint.reporter_id == me).values(reporter_id=None))
    ).rowcount or 0
    for model, column in (
        (PushSubscription, PushSubscription.account_id),
        (NotificationPreference, NotificationPreference.account_id),
        (NotifyDelivery, NotifyDelivery.account_id),
        (NoticeRead, NoticeRead.account_id),
        (ConsultationAnswer, ConsultationAnswer.account_id),
        (ConsultationParticipant, ConsultationParticipant.account_id),
        (RoomRating, RoomRating.account_id),
        (Favourite, Favourite.account_id),
        (AuthSession, AuthSession.account_id),  # every device signed out (WebSocket tickets cascade)
        (WeChatIdentity, WeChatIdentity.account_id),  # the WeChat binding (its subscriptions cascade)
        (RoleGrant, RoleGrant.account_id),
    ):
        await db.execute(delete(model).where(column == me))
    await db.execute(
        update(CommitteeMember)
        .where(CommitteeMember.account_id == me, CommitteeMember.ended_at.is_(None))
        .values(ended_at=func.now())
    )
    await db.execute(update(RoomSuggestion).where(RoomSuggestion.suggested_by == me).values(suggested_by=None))
    await db.execute(update(Upload).where(Upload.owner_id == me).values(owner_id=None))
    now = utcnow()
    account.phone = None
    account.email = None
    account.display_name = None
    account.password_hash = None
    account.disabled_at = account.disabled_at or now
    account.erased_at = now
    await db.flush()
    return ErasureOut(
        erased_at=now,
        children_deleted=len(sole),
        guardianships_removed=removed,
        applications_withdrawn=withdrawn,
        bookings_cancelled=cancelled,
        guidance_registrations_cancelled=registrations,
        complaints_detached=detached,
    )
