"""The Litestar application: ``create_app`` assembles every domain of ``DOMAINS`` (each route module's
``DOMAIN``: handlers, tags, background tasks) with the shared middleware, settings and state."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.accounts import routes as accounts
from backend.accounts.middleware import AuthMiddleware
from backend.accounts.sms import sms_sender
from backend.assessments import routes as assessments
from backend.auditlog import routes as auditlog
from backend.blacklist import routes as blacklist
from backend.bookings import routes as bookings
from backend.childhealth import routes as childhealth
from backend.committees import routes as committees
from backend.complaints import routes as complaints
from backend.core import crypto, logs, metrics
from backend.core.apidocs import render_plugins
from backend.core.audit import ReadAuditMiddleware
from backend.core.authz import action, action_guard
from backend.core.compression import compression_config
from backend.core.config import Settings
from backend.core.db import alchemy_config, alchemy_plugin, create_engine
from backend.core.deps import provide_caller, provide_settings
from backend.core.domains import Domain
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
from backend.enrolment import routes as enrolment
from backend.families import routes as families
from backend.favourites import routes as favourites
from backend.files import routes as files
from backend.filing import routes as filing
from backend.government import routes as government
from backend.guidance import routes as guidance
from backend.health import routes as health
from backend.imports import routes as imports
from backend.institutions import routes as institutions
from backend.models import import_all_models
from backend.notices import routes as notices
from backend.notify import routes as notify
from backend.privacy import routes as privacy
from backend.realtime import routes as realtime
from backend.rooms import routes as rooms
from backend.staff import routes as staff
from backend.statistics import routes as statistics
from backend.wechat import routes as wechat

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

# Every domain of the app, in the order the API document lists their tags.
DOMAINS: tuple[Domain, ...] = tuple(
    module.DOMAIN
    for module in (
        accounts, families, institutions, enrolment, bookings, committees, notices, complaints, rooms, files,
        realtime, notify, government, statistics, childhealth, guidance, assessments, blacklist, staff, filing, wechat,
        imports, health, favourites, privacy, auditlog,
    )
)  # fmt: skip


def create_app(settings: Settings, *, database_url: str | None = None, engine: AsyncEngine | None = None) -> Litestar:
    """Build the app. Pass ``engine`` to share one (tests), or a ``database_url`` (default: settings')."""
    # Children's names and birth dates are encrypted with these keys (never in the database); a
    # malformed or, in production, missing CHILD_DATA_KEYS stops the app here rather than at first use.
    crypto.install(crypto.ChildDataKeys.from_settings(settings))
    if engine is None:
        engine = _engine(settings, database_url)
    alchemy = alchemy_config(engine)
    web_app = pwa_directory(settings.pwa_dir)

    app = App(
        route_handlers=[
            *(handler for domain in DOMAINS for handler in domain.handlers(settings)),
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
            "caller": Provide(provide_caller, sync_to_thread=False),
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
        openapi_config=_openapi_config(),
        compression_config=compression_config(settings.compression),
        request_max_body_size=settings.max_body_bytes,
        state=_state(settings, alchemy),
        logging_config=_logging_config(settings),
        lifespan=[
            maintenance_loop,
            *(lifespan for domain in DOMAINS for lifespan in domain.lifespans),
            metrics.metrics_lifespan,
        ],
        debug=False,
    )
    finalize_openapi(app)
    metrics.install(app, engine)  # requests by route template, the pool's gauges (docs/observability.md)
    logs.install(app)  # X-Request-ID, and the request id on every log line
    return app


def _engine(settings: Settings, database_url: str | None) -> AsyncEngine:
    url = database_url or settings.database_url
    if url is None:
        raise RuntimeError("no database URL: run through `python -m backend` or set DATABASE_URL")
    return create_engine(settings, url)


def _openapi_config() -> OpenAPIConfig:
    """The API document, served at /schema, with every domain's tags."""
    return OpenAPIConfig(
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
        tags=[tag for domain in DOMAINS for tag in domain.tags],
    )


def _state(settings: Settings, alchemy: SQLAlchemyAsyncConfig) -> State:
    return State(
        {
            "settings": settings,
            "sms": sms_sender(settings),
            "alchemy": alchemy,
            "storage": storage_from_settings(settings),
        }
    )


def _logging_config(settings: Settings) -> LoggingConfig:
    return LoggingConfig(
        root={"level": settings.log_level, "handlers": ["queue_listener"]},
        formatters={"standard": logs.formatter_config(settings.log_format)},
        log_exceptions="never",
        disable_existing_loggers=False,
    )


def configure_logging(level: str, log_format: str = "text") -> None:
    logs.configure_basic(level, log_format)
