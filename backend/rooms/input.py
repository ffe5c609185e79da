"""What people put into the rooms map: ratings and comments (with moderation), suggested corrections
and new rooms (decided by the room's managers or a city admin), and the public history of a room.

* **Ratings.** One per account per room (``uq_room_ratings_one_per_user``); ``PUT`` upserts
  (``INSERT … ON CONFLICT DO UPDATE``), so rating again changes the rating. The average and count
  include every rating: hiding is about a *comment*, so a hidden comment's stars still count; only
  its text leaves the public list. Changing the comment's text lifts the hide (it is a new comment;
  moderators can hide it again); changing only the stars keeps it hidden.
* **Suggestions.** A correction names only the fields to change (``RoomFactsPatch``) and records the
  room's version it was based on. Approving locks the suggestion row (``FOR UPDATE``) and then the
  room, so of two concurrent decisions exactly one wins and the other answers 409
  ``already_decided``. An outdated suggestion (the room changed since) is still applied field by
  field over the current facts; the answer says so (``outdated``, ``changed_since_base``). New-room
  suggestions are decided by city admins only.
* **History.** Every version of a room's facts (``room_revisions``), newest first, with the fields
  that changed, who applied the change and through which suggestion.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, case, delete, func, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.accounts.models import Account
from backend.accounts.names import shown_name
from backend.core.authz import Principal
from backend.core.clock import utcnow
from backend.core.errors import Conflict, NotFound, RuleViolation
from backend.rooms import permissions as P
from backend.rooms import service
from backend.rooms.models import Room, RoomRating, RoomRevision, RoomSuggestion
from backend.rooms.schemas import (
    DecisionIn,
    DecisionOut,
    HideIn,
    ModeratedRatingOut,
    MyRatingOut,
    NewRoomSuggestionIn,
    RatingComment,
    RatingIn,
    RatingsOut,
    RoomFacts,
    RoomRevisionOut,
    SuggestionIn,
    SuggestionOut,
)

FACT_FIELDS = tuple(RoomFacts.__struct_fields__)


def _name(display_name: str | None, phone: str | None, email: str | None, present: Any) -> str | None:
    return shown_name(display_name, phone, email) if present is not None else None


async def _room_exists(db: AsyncSession, room_id: uuid.UUID) -> None:
    if await db.scalar(select(Room.id).where(Room.id == room_id)) is None:
        raise NotFound("room")


# ---------------------------------------------------------------------------------------------- ratings


def _my_rating(r: RoomRating) -> MyRatingOut:
    return MyRatingOut(
        id=r.id,
        room_id=r.room_id,
        stars=r.stars,
        comment=r.comment,
        hidden=r.hidden_at is not None,
        hidden_reason=r.hidden_reason,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


async def rate(db: AsyncSession, p: Principal, room_id: uuid.UUID, data: RatingIn) -> MyRatingOut:
    """Create or replace the caller's rating of the room."""
    await _room_exists(db, room_id)
    comment = data.comment.strip() if data.comment else None
    comment = comment or None
    stmt = insert(RoomRating).values(room_id=room_id, account_id=p.account_id, stars=data.stars, comment=comment)
    same_text = RoomRating.comment.is_not_distinct_from(stmt.excluded.comment)
    stmt = stmt.on_conflict_do_update(
        constraint="uq_room_ratings_one_per_user",
        set_={
            "stars": stmt.excluded.stars,
            "comment": stmt.excluded.comment,
            "updated_at": func.now(),
            # A new text is a new comment: the hide was about the old one.
            "hidden_at": case((same_text, RoomRating.hidden_at), else_=None),
            "hidden_by": case((same_text, RoomRating.hidden_by), else_=None),
            "hidden_reason": case((same_text, RoomRating.hidden_reason), else_=None),
        },
    ).returning(RoomRating)
    rating = (await db.execute(stmt.execution_options(populate_existing=True))).scalar_one()
    return _my_rating(rating)


async def my_rating(db: AsyncSession, p: Principal, room_id: uuid.UUID) -> MyRatingOut:
    rating = await db.scalar(
        select(RoomRating).where(RoomRating.room_id == room_id, RoomRating.account_id == p.account_id)
    )
    if rating is None:
        raise NotFound("rating")
    return _my_rating(rating)


async def unrate(db: AsyncSession, p: Principal, room_id: uuid.UUID) -> None:
    deleted = await db.scalar(
        delete(RoomRating)
        .where(RoomRating.room_id == room_id, RoomRating.account_id == p.account_id)
        .returning(RoomRating.id)
    )
    if deleted is None:
        raise NotFound("rating")


async def ratings(db: AsyncSession, room_id: uuid.UUID, *, limit: int, offset: int) -> RatingsOut:
    """The average and count of all ratings (hidden comments' stars included) and the visible
    comments, newest first."""
    await _room_exists(db, room_id)
    avg, count = (
        await db.execute(select(func.avg(RoomRating.stars), func.count()).where(RoomRating.room_id == room_id))
    ).one()
    visible = and_(RoomRating.room_id == room_id, RoomRating.comment.is_not(None), RoomRating.hidden_at.is_(None))
    total = await db.scalar(select(func.count()).select_from(RoomRating).where(visible))
    rows = await db.execute(
        select(RoomRating, Account.display_name, Account.phone, Account.email)
        .join(Account, Account.id == RoomRating.account_id)
        .where(visible)
        .order_by(RoomRating.updated_at.desc(), RoomRating.id)
        .limit(limit)
        .offset(offset)
    )
    return RatingsOut(
        room_id=room_id,
        average=round(float(avg), 2) if avg is not None else None,
        count=int(count),
        comments_total=int(total or 0),
        comments=[
            RatingComment(
                id=r.id,
                stars=r.stars,
                comment=r.comment or "",
                by=shown_name(name, phone, email),
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r, name, phone, email in rows
        ],
    )


def _moderated(r: RoomRating) -> ModeratedRatingOut:
    return ModeratedRatingOut(
        id=r.id,
        room_id=r.room_id,
        stars=r.stars,
        comment=r.comment,
        hidden=r.hidden_at is not None,
        hidden_at=r.hidden_at,
        hidden_reason=r.hidden_reason,
    )


async def _rating_to_moderate(db: AsyncSession, p: Principal, room_id: uuid.UUID, rating_id: uuid.UUID) -> RoomRating:
    await service.load(db, room_id, P.MODERATE.where(p))  # 404 outside the caller's rooms
    rating = await db.scalar(
        select(RoomRating)
        .where(RoomRating.id == rating_id, RoomRating.room_id == room_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if rating is None:
        raise NotFound("rating")
    return rating


async def hide(
    db: AsyncSession, p: Principal, room_id: uuid.UUID, rating_id: uuid.UUID, data: HideIn
) -> ModeratedRatingOut:
    rating = await _rating_to_moderate(db, p, room_id, rating_id)
    if rating.comment is None:
        raise RuleViolation("This rating has no comment to hide", detail_zh="该评价没有可隐藏的评论", code="no_comment")
    if rating.hidden_at is not None:
        raise Conflict("The comment is hidden already", detail_zh="该评论已被隐藏", code="already_hidden")
    rating.hidden_at, rating.hidden_by, rating.hidden_reason = utcnow(), p.account_id, data.reason.strip()
    await db.flush()
    return _moderated(rating)


async def show(db: AsyncSession, p: Principal, room_id: uuid.UUID, rating_id: uuid.UUID) -> ModeratedRatingOut:
    rating = await _rating_to_moderate(db, p, room_id, rating_id)
    if rating.hidden_at is None:
        raise Conflict("The comment is not hidden", detail_zh="该评论未被隐藏", code="not_hidden")
    rating.hidden_at, rating.hidden_by, rating.hidden_reason = None, None, None
    await db.flush()
    return _moderated(rating)


# ------------------------------------------------------------------------------------------- suggestions


def _no_change() -> RuleViolation:
    return RuleViolation(
        "The suggestion changes nothing", detail_zh="建议内容与现有信息相同，没有需要修改的内容", code="no_change"
    )


def _merge(current: RoomFacts, changes: dict[str, Any]) -> RoomFacts:
    """The current facts with ``changes`` applied field by field (validated again as a whole)."""
    merged = msgspec.to_builtins(current)
    merged.update(changes)
    try:
        return msgspec.convert(merged, RoomFacts)
    except msgspec.ValidationError as exc:
        raise RuleViolation(
            f"The changed facts are not valid: {exc}", detail_zh="修改后的信息无效", code="invalid_facts"
        ) from exc


def _differing(a: dict[str, Any], b: dict[str, Any], fields: Any = FACT_FIELDS) -> list[str]:
    return [f for f in fields if a.get(f) != b.get(f)]


async def suggest_change(db: AsyncSession, p: Principal, room_id: uuid.UUID, data: SuggestionIn) -> SuggestionOut:
    changes = msgspec.to_builtins(data.changes)
    if not changes:
        raise RuleViolation(
            "Name at least one field to change", detail_zh="请至少填写一项需要修改的内容", code="empty_suggestion"
        )
    service.check_hours(data.changes)
    room = await service.load(db, room_id)
    current = service.facts_of(room)
    merged = _merge(current, changes)
    service.check_hours(merged)
    cur, new = msgspec.to_builtins(current), msgspec.to_builtins(merged)
    changes = {f: changes[f] for f in _differing(cur, new, changes)}  # keep only real changes
    if not changes:
        raise _no_change()
    s = RoomSuggestion(
        room_id=room.id,
        base_version=room.version,
        changes=changes,
        note=data.note,
        suggested_by=p.account_id,
    )
    db.add(s)
    await db.flush()
    return await suggestion(db, s.id)


async def suggest_room(db: AsyncSession, p: Principal, data: NewRoomSuggestionIn) -> SuggestionOut:
    service.check_hours(data.facts)
    s = RoomSuggestion(
        room_id=None,
        base_version=None,
        changes=msgspec.to_builtins(data.facts),
        note=data.note,
        suggested_by=p.account_id,
    )
    db.add(s)
    await db.flush()
    return await suggestion(db, s.id)


def _visible_to(p: Principal, act: Any) -> ColumnElement[bool]:
    """Suggestions about the caller's rooms; new-room suggestions for city admins."""
    if p.is_city_admin:
        return true()
    return RoomSuggestion.room_id.in_(select(Room.id).where(act.where(p)))


def _suggestions_query() -> Any:
    by, decider = aliased(Account), aliased(Account)
    return (
        select(
            RoomSuggestion,
            Room.name,
            Room.version,
            by.id,
            by.display_name,
            by.phone,
            by.email,
            decider.id,
            decider.display_name,
            decider.phone,
            decider.email,
        )
        .outerjoin(Room, Room.id == RoomSuggestion.room_id)
        .outerjoin(by, by.id == RoomSuggestion.suggested_by)
        .outerjoin(decider, decider.id == RoomSuggestion.decided_by)
    )


def _suggestion_out(row: Any) -> SuggestionOut:
    s: RoomSuggestion = row[0]
    room_name, room_version = row[1], row[2]
    new_room = s.base_version is None
    return SuggestionOut(
        id=s.id,
        number=s.number,
        room_id=s.room_id,
        room_name=room_name,
        new_room=new_room,
        base_version=s.base_version,
        current_version=room_version,
        outdated=s.status == "pending" and not new_room and room_version is not None and room_version > s.base_version,
        changes=s.changes,
        note=s.note,
        suggested_by=_name(row[4], row[5], row[6], row[3]),
        status=s.status,  # type: ignore[arg-type]
        created_at=s.created_at,
        decided_at=s.decided_at,
        decided_by=_name(row[8], row[9], row[10], row[7]),
        decision_note=s.decision_note,
    )


async def suggestion(db: AsyncSession, suggestion_id: uuid.UUID) -> SuggestionOut:
    row = (
        await db.execute(
            _suggestions_query().where(RoomSuggestion.id == suggestion_id).execution_options(populate_existing=True)
        )
    ).one()
    return _suggestion_out(row)


async def list_suggestions(
    db: AsyncSession,
    p: Principal,
    *,
    status: str | None,
    room_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> list[SuggestionOut]:
    """Oldest pending first (a queue); decided ones newest decision first."""
    q = _suggestions_query().where(_visible_to(p, P.LIST_SUGGESTIONS))
    if status:
        q = q.where(RoomSuggestion.status == status)
    if room_id:
        q = q.where(RoomSuggestion.room_id == room_id)
    if status == "pending":
        q = q.order_by(RoomSuggestion.number)
    else:
        q = q.order_by(RoomSuggestion.decided_at.desc().nulls_first(), RoomSuggestion.number.desc())
    rows = await db.execute(q.limit(limit).offset(offset))
    return [_suggestion_out(row) for row in rows]


async def _lock_pending(db: AsyncSession, p: Principal, suggestion_id: uuid.UUID) -> RoomSuggestion:
    """The suggestion, locked; another decision waits here and then sees it decided."""
    s = await db.scalar(
        select(RoomSuggestion)
        .where(RoomSuggestion.id == suggestion_id, _visible_to(p, P.DECIDE))
        .with_for_update(of=RoomSuggestion)
        .execution_options(populate_existing=True)
    )
    if s is None:
        raise NotFound("suggestion")
    if s.status != "pending":
        raise Conflict(
            f"The suggestion has been {s.status} already",
            detail_zh="该建议已处理，不能重复处理",
            code="already_decided",
            extra={"status": s.status},
        )
    return s


def _decided(s: RoomSuggestion, p: Principal, status: str, data: DecisionIn) -> None:
    s.status, s.decided_at, s.decided_by = status, utcnow(), p.account_id
    s.decision_note = data.note.strip() if data.note else None


async def approve(db: AsyncSession, p: Principal, suggestion_id: uuid.UUID, data: DecisionIn) -> DecisionOut:
    s = await _lock_pending(db, p, suggestion_id)
    if s.room_id is None:
        try:
            facts = msgspec.convert(s.changes, RoomFacts)
        except msgspec.ValidationError as exc:
            raise RuleViolation(
                f"The suggested room is not valid: {exc}", detail_zh="建议的母婴室信息无效", code="invalid_facts"
            ) from exc
        _decided(s, p, "approved", data)
        await db.flush()
        room = await service.create_room(db, facts, created_by=p.account_id, suggestion_id=s.id)
        s.room_id = room.id
        await db.flush()
        return DecisionOut(
            suggestion=await suggestion(db, s.id),
            version=room.version,
            applied_fields=list(FACT_FIELDS),
            outdated=False,
            changed_since_base=[],
        )

    room = await service.load(db, s.room_id, lock=True)
    current = service.facts_of(room)
    cur = msgspec.to_builtins(current)
    merged = _merge(current, s.changes)
    applied = _differing(cur, msgspec.to_builtins(merged), s.changes)
    outdated = s.base_version is not None and room.version > s.base_version
    changed_since: list[str] = []
    if outdated:
        base = await db.scalar(
            select(RoomRevision.facts).where(RoomRevision.room_id == room.id, RoomRevision.version == s.base_version)
        )
        if base is not None:
            changed_since = _differing(base, cur, s.changes)
    _decided(s, p, "approved", data)
    await db.flush()
    if applied:
        await service.apply_facts(db, room, merged, changed_by=p.account_id, suggestion_id=s.id)
    return DecisionOut(
        suggestion=await suggestion(db, s.id),
        version=room.version,
        applied_fields=applied,
        outdated=outdated,
        changed_since_base=changed_since,
    )


async def reject(db: AsyncSession, p: Principal, suggestion_id: uuid.UUID, data: DecisionIn) -> SuggestionOut:
    s = await _lock_pending(db, p, suggestion_id)
    _decided(s, p, "rejected", data)
    await db.flush()
    return await suggestion(db, s.id)


# ----------------------------------------------------------------------------------------------- history


async def history(db: AsyncSession, room_id: uuid.UUID, *, limit: int, offset: int) -> list[RoomRevisionOut]:
    """Newest first; each version's changed fields against the version before it (a first version,
    or one whose predecessor is missing, lists every field it sets)."""
    await _room_exists(db, room_id)
    by, suggester = aliased(Account), aliased(Account)
    rows = (
        await db.execute(
            select(
                RoomRevision,
                by.id,
                by.display_name,
                by.phone,
                by.email,
                RoomSuggestion.number,
                suggester.id,
                suggester.display_name,
                suggester.phone,
                suggester.email,
            )
            .outerjoin(by, by.id == RoomRevision.changed_by)
            .outerjoin(RoomSuggestion, RoomSuggestion.id == RoomRevision.suggestion_id)
            .outerjoin(suggester, suggester.id == RoomSuggestion.suggested_by)
            .where(RoomRevision.room_id == room_id)
            .order_by(RoomRevision.version.desc())
            .limit(limit + 1)  # the version before the page's last one, to diff against
            .offset(offset)
        )
    ).all()
    out = []
    for n, row in enumerate(rows[:limit]):
        rev: RoomRevision = row[0]
        prev = rows[n + 1][0] if n + 1 < len(rows) and rows[n + 1][0].version == rev.version - 1 else None
        if prev is None and rev.version > 1:
            prev = await db.scalar(
                select(RoomRevision).where(RoomRevision.room_id == room_id, RoomRevision.version == rev.version - 1)
            )
        if prev is not None:
            fields = _differing(prev.facts, rev.facts)
        else:
            fields = [f for f in FACT_FIELDS if rev.facts.get(f) not in (None, [], "")]
        out.append(
            RoomRevisionOut(
                version=rev.version,
                changed_fields=fields,
                changes={f: rev.facts.get(f) for f in fields},
                changed_at=rev.changed_at,
                changed_by=_name(row[2], row[3], row[4], row[1]),
                suggestion_number=row[5],
                suggested_by=_name(row[7], row[8], row[9], row[6]),
            )
        )
    return out
