"""The Open311 GeoReport v2 routes under ``/open311/v2``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import PathParameter, QueryParameter, URLEncodedBody
from sqlalchemy import select

from backend.complaints import permissions as P
from backend.complaints import service
from backend.complaints.models import CLOSED, OPEN, Complaint
from backend.complaints.open311.errors import errors, not_found, open311_error, require_form
from backend.complaints.open311.fields import (
    complaint_form,
    date_parameter,
    device_key,
    filed_notice,
    instant,
    json_resource,
    registered_client,
    service_name_of,
    shift,
)
from backend.complaints.open311.reads import public_requests, request_numbers
from backend.complaints.open311.wire import (
    CHANGESET,
    CONTACT,
    DEFAULT_WINDOW,
    GROUPS,
    IDS_PATTERN,
    KEY_SERVICE,
    KEYWORDS,
    PREFIX,
    REQUEST_ID,
    SPECIFICATION,
    STATUS_PATTERN,
    TAGS,
    Open311Discovery,
    Open311Endpoint,
    Open311Filed,
    Open311Form,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from backend.complaints.routing import CATEGORIES
from backend.complaints.schemas import CategoryCode
from backend.core.authz import requires
from backend.core.clock import utcnow
from backend.core.config import Settings
from backend.core.db import autocommit_reads
from backend.core.deps import Db, client_address
from backend.core.errors import EXCEPTION_HANDLERS
from backend.core.storage import Storage
from backend.government.models import Department

_LIST_DESCRIPTION = """
Public service requests, newest first, at most 1,000. `service_request_id` (a comma-separated list of
`DQ-<n>`, at most 100) overrides every other filter. Otherwise `start_date`/`end_date` (W3C date-times
with their offset, as the spec requires) bound `requested_datetime`: neither gives the last 90 days,
one of them a 90-day window from or to it, both any span. `status` is `open` (received, accepted,
investigating) or `closed` (resolved, rejected, duplicate, referred), or both comma-separated.

No personal data is published: `description` is null, no contact details or media, `address` is the
district or county only, `lat`/`long` are rounded to 3 decimals, and complaints of the category
`child_safety` are never listed.
""".strip()

_POST_DESCRIPTION = """
`application/x-www-form-urlencoded`. Needs a registered client's `api_key`. `service_code` and
`description` are required, and a location: `lat` and `long` (WGS-84, inside Daqing) or `address_string`.
`media_url` (http/https) is never fetched: it is passed to the officers as an unverified link.
`email`, `account_id`, `address_id` and `jurisdiction_id` are ignored. The reply carries the
`service_request_id` (no tokens) and, in `service_notice`, the complaint's tracking code (shown once).
""".strip()


@get("/discovery.json", opt=requires(P.OPEN311), summary="Service discovery / 服务发现")
async def discovery(state: State) -> Open311Discovery:
    """Where this GeoReport v2 endpoint is, what it speaks (JSON only) and whom to ask for a key."""
    settings: Settings = state.settings
    return Open311Discovery(
        changeset=CHANGESET,
        contact=CONTACT,
        key_service=KEY_SERVICE,
        endpoints=[
            Open311Endpoint(
                specification=SPECIFICATION,
                url=settings.public_base_url.rstrip("/") + PREFIX,
                changeset=CHANGESET,
                type="production" if settings.is_production else "test",
                formats=["application/json"],
            )
        ],
    )


@get("/services.json", opt=requires(P.OPEN311), responses=errors(503), summary="Services (complaint categories)")
async def services(db: Db) -> list[Open311Service]:
    """One service per complaint category; service_code is the category's code."""
    await autocommit_reads(db)
    departments = dict((await db.execute(select(Department.code, Department.short_zh))).all())  # type: ignore[arg-type]
    out = []
    for code, category in CATEGORIES.items():
        routed = "、".join(departments.get(d, d) for d in category.departments)
        description = f"{category.name_zh}：转{routed}及属地区县政府办理。{category.name_en}: routed to {routed} and the local government."
        if category.urgent:
            description += (
                " 紧急事项，零容忍；不在公开列表中显示。Urgent (zero tolerance); never shown in public lists."
            )
        out.append(
            Open311Service(
                service_code=code,
                service_name=service_name_of(code),
                description=description,
                metadata=False,
                type="realtime",
                keywords=KEYWORDS.get(code, ""),
                group=GROUPS.get(code, GROUPS["other"]),
            )
        )
    return out


@get(
    "/services/{service_code:str}",
    opt=requires(P.OPEN311),
    responses=errors(400, 404),
    summary="Service definition / 服务定义",
)
async def service_definition(
    service_code: Annotated[str, PathParameter(description="The service_code followed by .json")],
) -> Open311ServiceDefinition:
    """No service has extra attributes (every service's `metadata` is false): `attributes` is empty."""
    code = json_resource(service_code, "service")
    if code not in CATEGORIES:
        raise not_found(f"No service {code[:40]!r}", "未找到该服务类别")
    return Open311ServiceDefinition(service_code=code, attributes=[])


@post(
    "/requests.json",
    opt=requires(P.OPEN311),
    before_request=require_form,
    status_code=200,
    responses=errors(400, 403, 413, 429, 503),
    summary="File a service request (complaint) / 提交投诉",
    description=_POST_DESCRIPTION,
)
async def create_request(
    db: Db,
    state: State,
    storage: NamedDependency[Storage],
    client: NamedDependency[str],
    data: URLEncodedBody[Open311Form],
) -> list[Open311Filed]:
    settings: Settings = state.settings
    caller = await registered_client(db, data.api_key)
    form = complaint_form(data)
    device = device_key(caller, data.device_id)
    filed = await service.file_complaint(
        db,
        settings,
        storage,
        None,  # Open311 filings keep no account
        form,
        client=client,
        device=device,
        source="open311",
        open311_client_id=caller.id,
    )
    return [
        Open311Filed(
            service_request_id=filed.reference,
            service_notice=filed_notice(filed.reference, filed.tracking_code, filed.urgent),
            account_id=None,
        )
    ]


@get(
    "/requests.json",
    opt=requires(P.OPEN311),
    responses=errors(400, 503),
    summary="Public service requests / 公开投诉列表",
    description=_LIST_DESCRIPTION,
)
async def list_requests(
    db: Db,
    state: State,
    service_request_id: Annotated[
        str | None,
        QueryParameter(pattern=IDS_PATTERN, required=False, description="DQ-<n>, comma-separated (at most 100)"),
    ] = None,
    service_code: Annotated[CategoryCode | None, QueryParameter(required=False, description="One service_code")] = None,
    start_date: Annotated[str | None, date_parameter("Earliest requested_datetime")] = None,
    end_date: Annotated[str | None, date_parameter("Latest requested_datetime")] = None,
    status: Annotated[
        str | None, QueryParameter(pattern=STATUS_PATTERN, required=False, description="open, closed or both")
    ] = None,
    jurisdiction_id: Annotated[
        str | None, QueryParameter(required=False, max_length=200, description="Ignored (one jurisdiction)")
    ] = None,
) -> list[Open311Request]:
    await autocommit_reads(db)
    if service_request_id is not None:
        return await public_requests(db, state.settings, Complaint.number.in_(request_numbers(service_request_id)))
    start = instant("start_date", start_date)
    end = instant("end_date", end_date)
    if start is None and end is None:
        end = utcnow()
        start = shift(end, -DEFAULT_WINDOW)
    elif start is None:
        start = shift(end, -DEFAULT_WINDOW)  # type: ignore[arg-type]
    elif end is None:
        end = shift(start, DEFAULT_WINDOW)
    conditions: list[Any] = [Complaint.created_at >= start, Complaint.created_at <= end]
    if service_code is not None:
        conditions.append(Complaint.category == service_code)
    if status is not None:
        wanted = {s.strip() for s in status.split(",")}
        if wanted != {"open", "closed"}:
            conditions.append(Complaint.status.in_(OPEN if "open" in wanted else CLOSED))
    return await public_requests(db, state.settings, *conditions)


@get(
    "/requests/{service_request_id:str}",
    opt=requires(P.OPEN311),
    responses=errors(400, 404, 503),
    summary="One public service request / 单个投诉",
)
async def get_request(
    db: Db,
    state: State,
    service_request_id: Annotated[str, PathParameter(description="DQ-<n> followed by .json")],
) -> list[Open311Request]:
    """A one-element list, as the spec has it; the same privacy rules as the list."""
    await autocommit_reads(db)
    stem = json_resource(service_request_id, "service request")
    match = REQUEST_ID.match(stem)
    found = await public_requests(db, state.settings, Complaint.number == int(match.group(1))) if match else []
    if not found:
        raise not_found(f"No service request {stem[:40]!r}", "未找到该投诉")
    return found


@get(
    "/tokens/{token:str}",
    opt=requires(P.OPEN311),
    responses=errors(400, 404),
    summary="Token lookup (no tokens are issued) / 令牌查询",
)
async def get_token(
    token: Annotated[str, PathParameter(description="A token followed by .json")],
) -> list[Open311Filed]:
    """This server answers every POST with its service_request_id at once and never issues tokens,
    so every token is unknown (404)."""
    json_resource(token, "token")
    raise not_found(
        "Unknown token: this server issues no tokens; POST requests.json returns the service_request_id",
        "未找到该令牌：本接口不签发令牌，提交时直接返回投诉编号",
    )


@get("/{resource:path}", opt=requires(P.OPEN311), include_in_schema=False)
async def unknown_resource(resource: Annotated[str, PathParameter()]) -> None:
    """Anything else under /open311/v2 (e.g. an .xml resource): 404 in the spec's format."""
    raise not_found(
        f"No resource {resource[:60]!r} here: this server offers the JSON resources of GeoReport v2",
        "未找到：本接口仅提供 GeoReport v2 的 JSON 资源",
    )


def open311_router() -> Router:
    return Router(
        PREFIX,
        route_handlers=[
            discovery,
            services,
            service_definition,
            create_request,
            list_requests,
            get_request,
            get_token,
            unknown_resource,
        ],
        tags=TAGS,
        dependencies={"client": Provide(client_address, sync_to_thread=False)},
        exception_handlers={
            cls: open311_error  # type: ignore[misc]
            for cls in EXCEPTION_HANDLERS
        },
    )
