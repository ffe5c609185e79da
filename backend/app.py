"""The Litestar application: one function that wires every domain together."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Tag
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.accounts.middleware import AuthMiddleware
from backend.accounts.routes import AuthController, MeController
from backend.accounts.sms import sms_sender
from backend.assessments.routes import AssessmentController, InstitutionAssessmentController
from backend.auditlog.routes import AuditController
from backend.blacklist.routes import BlacklistController
from backend.bookings.routes import BookingController, SlotController
from backend.childhealth.routes import (
    GuardianHealthController,
    GuardianRecordsController,
    HealthCheckController,
    StaffHealthController,
    StaffRecordsController,
)
from backend.committees.routes import CommitteeController
from backend.complaints.open311 import open311_router
from backend.complaints.routes import complaints_router
from backend.core import crypto, logs, metrics
from backend.core.apidocs import render_plugins
from backend.core.audit import ReadAuditMiddleware
from backend.core.authz import action, action_guard
from backend.core.compression import compression_config
from backend.core.config import Settings
from backend.core.db import alchemy_config, alchemy_plugin, create_engine
from backend.core.deps import provide_settings
from backend.core.errors import EXCEPTION_HANDLERS
from backend.core.head import App
from backend.core.headers import security_headers
from backend.core.inputs import InputGuardMiddleware
from backend.core.maintenance import maintenance_loop
from backend.core.openapi import AllowHeaderMiddleware, finalize_openapi
from backend.core.spa import pwa_directory, spa_fallback_handler
from backend.core.static import precompressed_files_router
from backend.core.storage import provide_storage, storage_from_settings
from backend.core.strict import strict_json_body
from backend.enrolment.routes import ApplicationController, EnrolmentDeskController
from backend.families.routes import ChildrenController
from backend.favourites.routes import FavouriteController
from backend.files.routes import uploads_router
from backend.filing.routes import FilingReviewController, InstitutionFilingController
from backend.government.routes import GovernmentController
from backend.guidance.routes import GuidanceEventController, GuidanceHostController, GuidanceRegistrationController
from backend.health.routes import health
from backend.institutions.routes import InstitutionController
from backend.models import import_all_models
from backend.notices.routes import InstitutionNoticeController, NoticeController
from backend.notify.routes import NotifyController, notify_lifespan
from backend.privacy.routes import PrivacyController
from backend.realtime.routes import RealtimeController, realtime_lifespan
from backend.realtime.ws import live
from backend.rooms.input_routes import input_controllers
from backend.rooms.routes import MapExportController, RoomController
from backend.staff.routes import StaffRosterController
from backend.statistics.routes import StatisticsController
from backend.wechat.routes import MyWeChatController, WeChatController

import_all_models()

PWA_STATIC = action("pwa.static", "load the web app", roles=None)
OPENAPI = action("openapi.read", "read the API documentation", roles=None)

DESCRIPTION = """
大庆市婴幼儿照护服务平台 API — the Daqing childcare platform for children under 3.

Authentication: `POST /api/auth/login` (password) or `POST /api/auth/code` then `/api/auth/code/verify`
(SMS code) return a bearer token and set an HttpOnly session cookie. Send `Authorization: Bearer <token>`,
or rely on the cookie and echo `X-CSRF-Token` on writes.

Errors always answer `{"status_code", "code", "detail", "detail_zh", "extra"}`.
Coordinates are WGS-84. Prices are in fen (分).
""".strip()


def create_app(settings: Settings, *, database_url: str | None = None, engine: AsyncEngine | None = None) -> Litestar:
    """Build the app. Pass ``engine`` to share one (tests), or a ``database_url`` (default: settings')."""
    # Children's names and birth dates are encrypted with these keys (never in the database); a
    # malformed or, in production, missing CHILD_DATA_KEYS stops the app here rather than at first use.
    crypto.install(crypto.ChildDataKeys.from_settings(settings))
    if engine is None:
        url = database_url or settings.database_url
        if url is None:
            raise RuntimeError("no database URL: run through `python -m backend` or set DATABASE_URL")
        engine = create_engine(settings, url)
    alchemy = alchemy_config(engine)
    web_app = pwa_directory(settings.pwa_dir)

    openapi = OpenAPIConfig(
        title="大庆市婴幼儿照护服务平台 Daqing Childcare Platform",
        version="0.1.0",
        description=DESCRIPTION,
        path="/schema",
        openapi_router=Router("/schema", route_handlers=[], include_in_schema=False, opt={"action": OPENAPI.name}),
        render_plugins=render_plugins(),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="Session token from sign-in"),
            }
        ),
        security=[{}, {"bearer": []}],
        tags=[
            Tag(name="accounts · 账号", description="Sign-in and the caller's account"),
            Tag(name="families · 家庭", description="A parent's children"),
            Tag(name="institutions · 托育机构", description="Registry and nearby search"),
            Tag(name="enrolment · 入托申请", description="Full-day and half-day applications, waitlists, the desk"),
            Tag(name="bookings · 计时托与临时托", description="Hourly and temporary care: slots and bookings"),
            Tag(name="committees · 家长委员会", description="Parent committees: members, terms, elections"),
            Tag(name="notices · 通知公告", description="Notices, read receipts and consultations (征求意见)"),
            Tag(name="complaints · 投诉举报", description="Complaints from the public: filing, tracking, figures"),
            Tag(name="open311 · GeoReport v2", description="Open311 GeoReport v2 (JSON) over the complaints"),
            Tag(name="rooms · 母婴室", description="Mother-and-baby rooms: nearby, map viewport, GeoJSON"),
            Tag(name="files · 文件", description="Uploaded images (attached to notices and, later, complaints)"),
            Tag(name="realtime · 实时", description="WebSocket tickets, Web Push devices, notification settings"),
            Tag(name="notifications · 通知送达", description="Acknowledgements, delivery log, SMS links and counts"),
            Tag(name="government · 行政区划与部门", description="Units and departments"),
            Tag(name="statistics · 统计监测", description="Figures per unit and month against the plan's targets"),
            Tag(name="childhealth · 儿童健康", description="Children's health: consent, growth monitoring, follow-up"),
            Tag(name="guidance · 育儿指导", description="Parenting guidance events: registration and attendance"),
            Tag(name="assessments · 质量评估", description="Quality assessments (WS/T 821-2023) and rectification"),
            Tag(name="blacklist · 黑名单", description="Blacklisted institutions (public) and people (officers)"),
            Tag(
                name="staff · 工作人员名册", description="Institutions' staff rosters (ID numbers kept as keyed hashes)"
            ),
            Tag(name="filing · 备案", description="Institutions' filing with the health commission and its review"),
            Tag(name="wechat · 微信", description="Sign in with WeChat, subscription messages, JS-SDK"),
            Tag(name="health · 运行状态", description="Service health"),
        ],
    )

    app = App(
        route_handlers=[
            health,
            AuthController,
            MeController,
            FavouriteController,
            PrivacyController,
            ChildrenController,
            InstitutionController,
            ApplicationController,
            EnrolmentDeskController,
            BookingController,
            SlotController,
            CommitteeController,
            InstitutionNoticeController,
            NoticeController,
            complaints_router(),
            RoomController,
            AssessmentController,
            InstitutionAssessmentController,
            MapExportController,
            *input_controllers(),
            open311_router(),
            GovernmentController,
            InstitutionFilingController,
            FilingReviewController,
            BlacklistController,
            StaffRosterController,
            GuidanceEventController,
            GuidanceRegistrationController,
            GuidanceHostController,
            GuardianHealthController,
            StaffHealthController,
            HealthCheckController,
            GuardianRecordsController,
            StaffRecordsController,
            StatisticsController,
            AuditController,
            uploads_router(settings),
            RealtimeController,
            WeChatController,
            MyWeChatController,
            NotifyController,
            live,
            metrics.metrics_endpoint,
            precompressed_files_router(
                web_app, name="pwa", opt={"action": PWA_STATIC.name}, precompressed=settings.compression
            ),
        ],
        plugins=[alchemy_plugin(alchemy)],
        middleware=[
            AllowHeaderMiddleware,
            DefineMiddleware(InputGuardMiddleware, allowed_origins=settings.allowed_origins),
            DefineMiddleware(AuthMiddleware, alchemy=alchemy, settings=settings),
            DefineMiddleware(ReadAuditMiddleware, alchemy=alchemy),
        ],
        guards=[action_guard],
        before_request=strict_json_body,
        before_send=[security_headers(settings)],
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "storage": Provide(provide_storage, sync_to_thread=False),
        },
        exception_handlers={**EXCEPTION_HANDLERS, HTTPException: spa_fallback_handler(web_app, settings.compression)},  # type: ignore[arg-type]
        cors_config=CORSConfig(
            allow_origins=list(settings.allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "x-csrf-token", "idempotency-key"],
        ),
        openapi_config=openapi,
        compression_config=compression_config(settings.compression),
        request_max_body_size=settings.max_body_bytes,
        state=State(
            {
                "settings": settings,
                "sms": sms_sender(settings),
                "alchemy": alchemy,
                "storage": storage_from_settings(settings),
            }
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            formatters={"standard": logs.formatter_config(settings.log_format)},
            log_exceptions="never",
            disable_existing_loggers=False,
        ),
        lifespan=[maintenance_loop, realtime_lifespan, notify_lifespan, metrics.metrics_lifespan],
        debug=False,
    )
    finalize_openapi(app)
    metrics.install(app, engine)  # requests by route template, the pool's gauges (docs/observability.md)
    logs.install(app)  # X-Request-ID, and the request id on every log line
    return app


def configure_logging(level: str, log_format: str = "text") -> None:
    logs.configure_basic(level, log_format)
