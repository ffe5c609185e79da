"""Children's health (医育结合): guardians' health profile and growth chart, staff growth records and
follow-up items. Thin handlers; the rules are in ``service``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post, put
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.childhealth import checks, entry, service
from backend.childhealth import permissions as P
from backend.childhealth.schemas import (
    ClassChecksOut,
    ClusterAccessIn,
    ClusterAccessOut,
    ClusterAlertOut,
    DailyCheckIn,
    DailyCheckOut,
    EntryCheckIn,
    EntryCheckOut,
    FollowUpOut,
    GrowthChartOut,
    HealthProfileIn,
    HealthProfileOut,
    HealthRecordsOut,
    HealthSettingIn,
    HealthSettingOut,
    MeasurementIn,
    MeasurementOut,
    VaccinationCheckIn,
    VaccinationCheckOut,
)
from backend.core.authz import requires
from backend.core.deps import CallerDep, Db
from backend.core.domains import Domain
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
        caller: CallerDep,
        child_id: FromPath[uuid.UUID],
        data: JSONBody[HealthProfileIn],
    ) -> HealthProfileOut:
        out = await service.set_profile(db, caller.principal, child_id, data)
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
    async def growth_chart(self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID]) -> GrowthChartOut:
        return await service.guardian_chart(db, caller.principal, child_id)


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
        caller: CallerDep,
        child_id: FromPath[uuid.UUID],
        data: JSONBody[MeasurementIn],
    ) -> MeasurementOut:
        out = await service.record_growth(db, caller.principal, child_id, data)
        await db.commit()
        return out

    @get(
        "/children/{child_id:uuid}/growth",
        opt=requires(P.READ_GROWTH),
        responses=error_responses(401, 403, 404),
        summary="A child's growth record / 幼儿生长记录",
    )
    async def staff_growth(self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID]) -> list[MeasurementOut]:
        return await service.staff_growth(db, caller.principal, child_id)

    @get(
        "/follow-ups",
        opt=requires(P.FOLLOW_UPS),
        responses=error_responses(401, 403),
        summary="Health follow-up items / 健康随访事项",
    )
    async def follow_ups(
        self,
        db: Db,
        caller: CallerDep,
        status: Annotated[Literal["open", "closed"], QueryParameter(description="open (default) or closed")] = "open",
    ) -> list[FollowUpOut]:
        return await service.follow_ups(db, caller.principal, status)

    @post(
        "/follow-ups/{follow_up_id:uuid}/close",
        opt=requires(P.CLOSE_FOLLOW_UP),
        status_code=204,
        responses=error_responses(401, 403, 404),
        summary="Close a follow-up item / 关闭随访事项",
    )
    async def close_follow_up(self, db: Db, caller: CallerDep, follow_up_id: FromPath[uuid.UUID]) -> None:
        await service.close_follow_up(db, caller.principal, follow_up_id)
        await db.commit()


class HealthCheckController(Controller):
    """晨午检: a class's daily health checks, and the cluster alerts they raise."""

    path = "/api/childhealth"
    tags = TAGS

    @get(
        "/classes/{class_id:uuid}/checks",
        opt=requires(P.CLASS_CHECKS),
        responses=error_responses(400, 401, 403, 404),
        summary="A class's health check screen / 班级晨午检",
        description="The children holding a place in the class with their check of the day and session, and "
        "the number of children not well per day over the last 3 days.",
    )
    async def class_checks(
        self,
        db: Db,
        caller: CallerDep,
        class_id: FromPath[uuid.UUID],
        day: Annotated[dt.date | None, QueryParameter(description="Default: today (Beijing)")] = None,
        session: Annotated[Literal["morning", "afternoon"], QueryParameter(description="晨检 or 午检")] = "morning",
    ) -> ClassChecksOut:
        return await checks.class_checks(db, caller.principal, class_id, day, session)

    @post(
        "/classes/{class_id:uuid}/checks",
        opt=requires(P.RECORD_CHECK),
        responses=error_responses(401, 403, 404, 409, 422),
        summary="Record a child's health check / 记录晨午检",
        description="Today's check (again: replaces it). `outcome` send_home or isolation notifies the guardians "
        "at once (live, push and the urgent SMS/WeChat channel; the text holds no child data). Three children "
        "of the class with the same symptom within 3 days raise a cluster alert for the institution and the "
        "county health officers. 422: `check_well_inconsistent`, `check_symptom_required`, "
        "`check_temperature_required`, `check_symptom_repeated`.",
    )
    async def record_check(
        self, db: Db, caller: CallerDep, class_id: FromPath[uuid.UUID], data: JSONBody[DailyCheckIn]
    ) -> DailyCheckOut:
        out = await checks.record_check(db, caller.principal, class_id, data)
        await db.commit()
        return out

    @get(
        "/clusters",
        opt=requires(P.CLUSTERS),
        responses=error_responses(401, 403),
        summary="Health cluster alerts / 聚集性健康提醒",
        description="Counts only, no child data: the institution's own for its staff; the unit's for health officers.",
    )
    async def clusters(self, db: Db, caller: CallerDep) -> list[ClusterAlertOut]:
        return await checks.clusters(db, caller.principal)

    @post(
        "/clusters/{alert_id:uuid}/access",
        opt=requires(P.CLUSTER_ACCESS),
        status_code=200,
        responses=error_responses(401, 403, 404, 422),
        summary="Open the checks behind a cluster alert / 查看聚集事件明细",
        description="Health officers of the institution's unit (and the city admin), with a reason; the reason "
        "and the children read are written to the audit log.",
    )
    async def cluster_access(
        self,
        db: Db,
        caller: CallerDep,
        alert_id: FromPath[uuid.UUID],
        data: JSONBody[ClusterAccessIn],
    ) -> ClusterAccessOut:
        out = await checks.cluster_access(db, caller.principal, alert_id, data)
        await db.commit()
        return out


class GuardianRecordsController(Controller):
    """A guardian's entry health check (with the report) and the child's entry and vaccination checks."""

    path = "/api/me/children/{child_id:uuid}"
    tags = TAGS

    @post(
        "/entry-checks",
        opt=requires(P.ENTRY_MINE),
        responses=error_responses(401, 403, 404, 422),
        summary="Hand in the entry health check / 提交入托体检",
        description="With the report: uploads of purpose `health_report` (`POST /api/uploads/documents`; an image "
        "or a PDF). 422 `entry_check_report_required`, `entry_check_reasons_required`, `examined_on_out_of_range`, "
        "`upload_unusable`.",
    )
    async def hand_in(
        self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID], data: JSONBody[EntryCheckIn]
    ) -> EntryCheckOut:
        out = await entry.record_entry_check(db, caller.principal, child_id, data, by_guardian=True)
        await db.commit()
        return out

    @get(
        "/health-records",
        opt=requires(P.RECORDS_MINE),
        responses=error_responses(401, 403, 404),
        summary="My child's entry and vaccination checks / 入托体检与预防接种查验",
    )
    async def mine(self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID]) -> HealthRecordsOut:
        return await entry.records(db, caller.principal, child_id, guardian=True)


class StaffRecordsController(Controller):
    path = "/api/childhealth"
    tags = TAGS

    @post(
        "/children/{child_id:uuid}/entry-checks",
        opt=requires(P.RECORD_ENTRY),
        responses=error_responses(401, 403, 404, 422),
        summary="Record an entry health check / 登记入托体检",
    )
    async def record_entry(
        self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID], data: JSONBody[EntryCheckIn]
    ) -> EntryCheckOut:
        out = await entry.record_entry_check(db, caller.principal, child_id, data, by_guardian=False)
        await db.commit()
        return out

    @post(
        "/children/{child_id:uuid}/vaccination-checks",
        opt=requires(P.RECORD_VACCINATION),
        responses=error_responses(401, 403, 404, 422),
        summary="Record a vaccination certificate check / 登记预防接种证查验",
        description="Missing doses (of the national schedule) need a catch-up deadline: an open item for staff "
        "and a message to the guardians. 422 `dose_unknown`, `catch_up_incomplete`, `catch_up_inconsistent`, "
        "`deadline_in_past`.",
    )
    async def record_vaccination(
        self,
        db: Db,
        caller: CallerDep,
        child_id: FromPath[uuid.UUID],
        data: JSONBody[VaccinationCheckIn],
    ) -> VaccinationCheckOut:
        out = await entry.record_vaccination_check(db, caller.principal, child_id, data)
        await db.commit()
        return out

    @get(
        "/children/{child_id:uuid}/health-records",
        opt=requires(P.STAFF_RECORDS),
        responses=error_responses(401, 403, 404),
        summary="A child's entry and vaccination checks / 幼儿入托体检与接种查验",
    )
    async def records(self, db: Db, caller: CallerDep, child_id: FromPath[uuid.UUID]) -> HealthRecordsOut:
        return await entry.records(db, caller.principal, child_id, guardian=False)

    @get(
        "/institutions/{institution_id:uuid}/settings",
        opt=requires(P.READ_SETTING),
        responses=error_responses(401, 403, 404),
        summary="The institution's health settings / 机构卫生保健设置",
    )
    async def get_setting(self, db: Db, caller: CallerDep, institution_id: FromPath[uuid.UUID]) -> HealthSettingOut:
        return await entry.get_setting(db, caller.principal, institution_id)

    @put(
        "/institutions/{institution_id:uuid}/settings",
        opt=requires(P.SET_SETTING),
        responses=error_responses(401, 403, 404, 422),
        summary="Set the entry-check rule / 设置入托体检要求",
        description="Without a current passed entry check a full-day or half-day place either does not start "
        "(`refuse`: 409 `entry_check_required` when enrolling) or starts with the check due within `grace_days`.",
    )
    async def put_setting(
        self,
        db: Db,
        caller: CallerDep,
        institution_id: FromPath[uuid.UUID],
        data: JSONBody[HealthSettingIn],
    ) -> HealthSettingOut:
        out = await entry.put_setting(db, caller.principal, institution_id, data)
        await db.commit()
        return out


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [
        GuardianHealthController,
        StaffHealthController,
        HealthCheckController,
        GuardianRecordsController,
        StaffRecordsController,
    ],
    tags=[Tag(name="childhealth · 儿童健康", description="Children's health: consent, growth monitoring, follow-up")],
)
