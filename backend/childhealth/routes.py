"""Children's health (医育结合): guardians' health profile and growth chart, staff growth records and
follow-up items. Thin handlers; the rules are in ``service``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.childhealth import permissions as P
from backend.childhealth import service
from backend.childhealth.schemas import (
    FollowUpOut,
    GrowthChartOut,
    HealthProfileIn,
    HealthProfileOut,
    MeasurementIn,
    MeasurementOut,
)
from backend.core.authz import Principal, requires
from backend.core.deps import Db
from backend.core.errors import error_responses

TAGS = ["childhealth · 儿童健康"]


class GuardianHealthController(Controller):
    path = "/api/me/children/{child_id:uuid}"
    tags = TAGS

    @put(
        "/health-profile",
        opt=requires(P.PROFILE),
        responses=error_responses(401, 403, 404, 422),
        summary="Consent to health records; the child's sex / 同意记录健康信息",
        description="422 `health_consent_required` unless `consent.accepted`; "
        "422 `consent_policy_outdated` for another notice version.",
    )
    async def set_profile(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        child_id: FromPath[uuid.UUID],
        data: JSONBody[HealthProfileIn],
    ) -> HealthProfileOut:
        out = await service.set_profile(db, request.user, child_id, data)
        await db.commit()
        return out

    @get(
        "/growth",
        opt=requires(P.CHART),
        responses=error_responses(401, 403, 404),
        summary="My child's growth chart / 生长曲线",
        description="Measurements with WHO 2006 z-scores and percentiles, and the reference curves "
        "(-3, -2, 0, +2, +3 SD) per indicator.",
    )
    async def growth_chart(
        self, db: Db, request: Request[Principal, Any, Any], child_id: FromPath[uuid.UUID]
    ) -> GrowthChartOut:
        return await service.guardian_chart(db, request.user, child_id)


class StaffHealthController(Controller):
    path = "/api/childhealth"
    tags = TAGS

    @post(
        "/children/{child_id:uuid}/growth",
        opt=requires(P.RECORD_GROWTH),
        responses=error_responses(401, 403, 404, 422),
        summary="Record a growth measurement / 记录生长测量",
        description="For a child holding a place at your institution. 422 `health_consent_required` before "
        "the guardian consented, `measurement_empty`, `measured_on_out_of_range`. Values beyond ±2 SD or "
        "crossing two centile lines open a follow-up item and send the guardians a gentle message.",
    )
    async def record_growth(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        child_id: FromPath[uuid.UUID],
        data: JSONBody[MeasurementIn],
    ) -> MeasurementOut:
        out = await service.record_growth(db, request.user, child_id, data)
        await db.commit()
        return out

    @get(
        "/children/{child_id:uuid}/growth",
        opt=requires(P.READ_GROWTH),
        responses=error_responses(401, 403, 404),
        summary="A child's growth record / 幼儿生长记录",
    )
    async def staff_growth(
        self, db: Db, request: Request[Principal, Any, Any], child_id: FromPath[uuid.UUID]
    ) -> list[MeasurementOut]:
        return await service.staff_growth(db, request.user, child_id)

    @get(
        "/follow-ups",
        opt=requires(P.FOLLOW_UPS),
        responses=error_responses(401, 403),
        summary="Health follow-up items / 健康随访事项",
    )
    async def follow_ups(
        self,
        db: Db,
        request: Request[Principal, Any, Any],
        status: Annotated[Literal["open", "closed"], QueryParameter(description="open (default) or closed")] = "open",
    ) -> list[FollowUpOut]:
        return await service.follow_ups(db, request.user, status)

    @post(
        "/follow-ups/{follow_up_id:uuid}/close",
        opt=requires(P.CLOSE_FOLLOW_UP),
        status_code=204,
        responses=error_responses(401, 403, 404),
        summary="Close a follow-up item / 关闭随访事项",
    )
    async def close_follow_up(
        self, db: Db, request: Request[Principal, Any, Any], follow_up_id: FromPath[uuid.UUID]
    ) -> None:
        await service.close_follow_up(db, request.user, follow_up_id)
        await db.commit()
