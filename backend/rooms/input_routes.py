"""Ratings and comments, their moderation, suggested corrections and new rooms, and a room's history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.core import ratelimit
from backend.core.authz import Principal, requires
from backend.core.config import Settings
from backend.core.deps import CallerDep, Db, client_address
from backend.core.errors import error_responses
from backend.rooms import input as service
from backend.rooms import permissions as P
from backend.rooms.schemas import (
    DecisionIn,
    DecisionOut,
    HideIn,
    ModeratedRatingOut,
    MyRatingOut,
    NewRoomSuggestionIn,
    RatingIn,
    RatingsOut,
    RoomRevisionOut,
    SuggestionIn,
    SuggestionOut,
    SuggestionStatus,
)

TAGS = ["rooms · 母婴室"]
HOUR = 3600


async def _limit(db: Db, request: Request[Principal, Any, Any], what: str) -> None:
    """Ratings and suggestions per account per hour (ROOM_RATINGS_MAX_PER_HOUR /
    ROOM_SUGGESTIONS_MAX_PER_HOUR) and five times that per client address: 429 with Retry-After."""
    settings: Settings = request.app.state.settings
    per_hour = settings.room_ratings_max_per_hour if what == "rating" else settings.room_suggestions_max_per_hour
    error = {"detail_zh": "操作过于频繁，请稍后再试", "code": "rate_limited"}
    for key, limit in (
        (f"room-{what}:{request.user.account_id}", per_hour),
        (f"room-{what}-client:{client_address(request)}", per_hour * 5),
    ):
        await ratelimit.enforce(db, settings.secret_key, key, limit=limit, window_s=HOUR, **error)


READ_ERRORS = error_responses(401, 403, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)
LIMITED_WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 429)
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=100_000, description="Skip this many")]


class RoomRatingController(Controller):
    path = "/api/rooms/{room_id:uuid}"
    tags = TAGS

    @put("/rating", opt=requires(P.RATE), responses=LIMITED_WRITE_ERRORS, summary="Rate a room / 评价母婴室")
    async def rate(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        room_id: FromPath[uuid.UUID],
        data: JSONBody[RatingIn],
    ) -> MyRatingOut:
        """One rating per account and room: rating again replaces it. Changing the comment's text
        lifts a moderator's hide (it is a new comment); changing only the stars does not."""
        await _limit(db, request, "rating")
        out = await service.rate(db, caller.principal, room_id, data)
        await db.commit()
        return out

    @get("/rating", opt=requires(P.RATE), responses=READ_ERRORS, summary="My rating / 我的评价")
    async def mine(self, db: Db, caller: CallerDep, room_id: FromPath[uuid.UUID]) -> MyRatingOut:
        return await service.my_rating(db, caller.principal, room_id)

    @delete("/rating", opt=requires(P.RATE), responses=READ_ERRORS, summary="Remove my rating / 删除我的评价")
    async def unrate(self, db: Db, caller: CallerDep, room_id: FromPath[uuid.UUID]) -> None:
        await service.unrate(db, caller.principal, room_id)
        await db.commit()

    @get(
        "/ratings",
        opt=requires(P.READ_RATINGS),
        responses=error_responses(404),
        summary="Ratings and comments / 评分与评论",
    )
    async def ratings(self, db: Db, room_id: FromPath[uuid.UUID], limit: Limit = 20, offset: Offset = 0) -> RatingsOut:
        """The average and count of every rating (a hidden comment's stars still count) and the
        visible comments, newest first; each shows the rater's display name or masked phone."""
        return await service.ratings(db, room_id, limit=limit, offset=offset)

    @post(
        "/ratings/{rating_id:uuid}/hide",
        opt=requires(P.MODERATE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Hide a comment / 隐藏评论",
    )
    async def hide(
        self,
        db: Db,
        caller: CallerDep,
        room_id: FromPath[uuid.UUID],
        rating_id: FromPath[uuid.UUID],
        data: JSONBody[HideIn],
    ) -> ModeratedRatingOut:
        """The room's managers and city admins, with a reason; the stars keep counting."""
        out = await service.hide(db, caller.principal, room_id, rating_id, data)
        await db.commit()
        return out

    @post(
        "/ratings/{rating_id:uuid}/show",
        opt=requires(P.MODERATE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Show a hidden comment again / 恢复显示评论",
    )
    async def show(
        self,
        db: Db,
        caller: CallerDep,
        room_id: FromPath[uuid.UUID],
        rating_id: FromPath[uuid.UUID],
    ) -> ModeratedRatingOut:
        out = await service.show(db, caller.principal, room_id, rating_id)
        await db.commit()
        return out

    @post(
        "/suggestions",
        opt=requires(P.SUGGEST),
        responses=LIMITED_WRITE_ERRORS,
        summary="Suggest a correction / 提交纠错建议",
    )
    async def suggest_change(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        caller: CallerDep,
        room_id: FromPath[uuid.UUID],
        data: JSONBody[SuggestionIn],
    ) -> SuggestionOut:
        """Name only the fields to change (`null` clears an optional one); the room's managers or a
        city admin decide."""
        await _limit(db, request, "suggestion")
        out = await service.suggest_change(db, caller.principal, room_id, data)
        await db.commit()
        return out

    @get("/history", opt=requires(P.HISTORY), responses=error_responses(404), summary="History / 修改记录")
    async def history(
        self, db: Db, room_id: FromPath[uuid.UUID], limit: Limit = 20, offset: Offset = 0
    ) -> list[RoomRevisionOut]:
        """Every version of the room's facts, newest first: what changed, when, who applied it and
        through which suggestion."""
        return await service.history(db, room_id, limit=limit, offset=offset)


class RoomSuggestionController(Controller):
    path = "/api/rooms/suggestions"
    tags = TAGS

    @post("/", opt=requires(P.SUGGEST), responses=LIMITED_WRITE_ERRORS, summary="Suggest a new room / 提交新母婴室")
    async def suggest_room(
        self, db: Db, request: Request[Principal, Any, Any], caller: CallerDep, data: JSONBody[NewRoomSuggestionIn]
    ) -> SuggestionOut:
        """A city admin decides; approving adds the room."""
        await _limit(db, request, "suggestion")
        out = await service.suggest_room(db, caller.principal, data)
        await db.commit()
        return out

    @get(
        "/",
        opt=requires(P.LIST_SUGGESTIONS),
        responses=error_responses(401, 403),
        summary="Suggestions to decide / 待处理建议",
    )
    async def list_suggestions(
        self,
        db: Db,
        caller: CallerDep,
        status: Annotated[SuggestionStatus | None, QueryParameter(description="Filter by status")] = "pending",
        room_id: Annotated[uuid.UUID | None, QueryParameter(description="One room's suggestions")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[SuggestionOut]:
        """Managers see their rooms' suggestions; city admins see all, new rooms included."""
        return await service.list_suggestions(
            db, caller.principal, status=status, room_id=room_id, limit=limit, offset=offset
        )

    @post(
        "/{suggestion_id:uuid}/approve",
        opt=requires(P.DECIDE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Approve a suggestion / 采纳建议",
    )
    async def approve(
        self,
        db: Db,
        caller: CallerDep,
        suggestion_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
    ) -> DecisionOut:
        """Applies the suggested fields over the room's current facts as a new version (a new room
        for a new-room suggestion, city admins only). `outdated` says the room changed after the
        suggestion was made; `changed_since_base` names the suggested fields changed meanwhile. A
        decided suggestion answers 409 `already_decided`."""
        out = await service.approve(db, caller.principal, suggestion_id, data)
        await db.commit()
        return out

    @post(
        "/{suggestion_id:uuid}/reject",
        opt=requires(P.DECIDE),
        status_code=200,
        responses=WRITE_ERRORS,
        summary="Reject a suggestion / 不予采纳",
    )
    async def reject(
        self,
        db: Db,
        caller: CallerDep,
        suggestion_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
    ) -> SuggestionOut:
        out = await service.reject(db, caller.principal, suggestion_id, data)
        await db.commit()
        return out


def input_controllers() -> list[type[Controller]]:
    return [RoomRatingController, RoomSuggestionController]
