"""Open311 GeoReport v2 (JSON only) over the complaints, under ``/open311/v2``.

A third-party app that speaks the Open311 standard can list the complaint categories (its
*services*), file complaints (*service requests*) and follow them. Only the JSON format is offered
(``.json`` resources; discovery says ``application/json``), for one jurisdiction (Daqing):
``jurisdiction_id`` is accepted and ignored.

Filing (``POST /open311/v2/requests.json``, ``application/x-www-form-urlencoded``) needs the
``api_key`` of a registered client (``python -m backend open311-client add "<name>"`` prints a new
key once; only its SHA-256 digest is stored; ``revoke`` ends it at once). The complaint is filed by
``service.file_complaint`` exactly as the app files one (routing, time limits, rate limits, events),
with ``source="open311"`` and the client's id; no account is linked. Decisions on the optional
parameters:

* ``description`` is required here (the spec makes it optional): a complaint without one cannot be
  worked. At most 4,000 characters, no HTML.
* ``media_url`` (http or https, at most 500 characters) is never fetched by the server (no SSRF): it
  is appended to the description as an unverified link for the officers, and the two together must
  fit the 4,000 characters. It is never published.
* ``first_name``/``last_name`` become the contact name, ``phone`` the contact phone (kept for
  officers only, never published). ``email`` is not stored: complaints have no e-mail contact.
* ``device_id`` keys the per-device rate limit (as ``X-Device-Id`` does in the app).
  ``account_id``, ``address_id`` and ``jurisdiction_id`` are ignored; ``address_id`` alone is not
  a location.
* The reply gives ``service_request_id`` (``DQ-<number>``) at once, and the complaint's tracking
  code in ``service_notice`` (shown once, as in the app). Tokens are never issued, so
  ``GET /tokens/{token}.json`` always answers 404.

Reading (``GET /requests.json``, ``GET /requests/{id}.json``) is public and publishes no personal
data (children's data, PIPL): ``description`` is always null, no contact details, no media, the
address is only the district or county, ``lat``/``long`` are rounded to 3 decimals (about 100 m),
and complaints of the urgent category ``child_safety`` are left out entirely (the reporter of one
still gets its id, and its tracking code, in the POST reply). ``status_notes`` is the officers'
latest *public* note.

Errors use the spec's format, ``[{"code": 400, "description": "..."}]``, with that HTTP status:
400 for missing or bad parameters (a missing api_key too, and rule violations such as a location
outside Daqing), 403 for an unknown or revoked ``api_key``, 404 for unknown resources; 429 and 503 keep
their meaning. A failed request writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import secrets
import sys
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter, URLEncodedBody
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.complaints import permissions as P
from backend.complaints import service
from backend.complaints.models import CLOSED, MAX_DESCRIPTION, OPEN, Complaint, ComplaintUpdate, Open311Client
from backend.complaints.routing import CATEGORIES
from backend.complaints.schemas import CategoryCode, ComplaintForm
from backend.core import tx
from backend.core.authz import requires
from backend.core.clock import CHINA, utcnow
from backend.core.config import Settings
from backend.core.db import autocommit_reads, create_engine
from backend.core.deps import Db, client_address
from backend.core.errors import EXCEPTION_HANDLERS, AppError, ErrorBody, Forbidden
from backend.core.schemas import Output
from backend.core.security import token_digest
from backend.core.storage import Storage
from backend.government.models import Department, Unit

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = dt.datetime(2026, 11, 28, tzinfo=CHINA)  # when this endpoint's definition last changed
CONTACT = "大庆市卫生健康委员会 · 大庆市婴幼儿照护服务平台 Daqing Municipal Health Commission, childcare platform"
KEY_SERVICE = (
    "api_key 由平台运营方签发（python -m backend open311-client add）。"
    " Keys are issued by the platform's operator on request; reading needs no key."
)
TAGS = ["open311 · GeoReport v2"]
HIDDEN_CATEGORIES = ("child_safety",)  # never published (see the module's description)
PUBLIC_DECIMALS = 3
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 100
MAX_MEDIA_URL = 500
MAX_DEVICE_ID = 64
MAX_API_KEY = 200
KEY_PREFIX = "dq311_"
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)

IDS_PATTERN = r"^\s*[Dd][Qq]-[0-9]{1,18}\s*(,\s*[Dd][Qq]-[0-9]{1,18}\s*){0,99}$"  # at most MAX_IDS
STATUS_PATTERN = r"^\s*(open|closed)\s*(,\s*(open|closed)\s*)*$"
_ID = re.compile(r"^[Dd][Qq]-([0-9]{1,18})$")
_COORDINATE = re.compile(r"^\s*[+-]?[0-9]{1,3}(\.[0-9]{1,15})?\s*$")
_CJK = re.compile(r"[\u3400-\u9fff]")

# Groups and search keywords of the services (the categories themselves live in routing.py).
_GROUPS = {
    "child_safety": "人身安全 Personal safety",
    "food_safety": "安全与卫生 Safety and hygiene",
    "fire_safety": "安全与卫生 Safety and hygiene",
    "health_hygiene": "安全与卫生 Safety and hygiene",
    "fees": "机构经营 Operation",
    "unregistered": "机构经营 Operation",
    "staff_conduct": "机构经营 Operation",
    "kindergarten_class": "机构经营 Operation",
    "nursing_room": "母婴设施 Mother-and-baby facilities",
    "other": "其他 Other",
}
_KEYWORDS = {
    "child_safety": "虐童,人身安全,伤害,abuse,injury,safety",
    "food_safety": "食品安全,饮食,餐食,food,meals",
    "fire_safety": "消防,火灾,安全出口,fire,exits",
    "health_hygiene": "卫生,保健,传染病,hygiene,health,illness",
    "fees": "收费,价格,退费,fees,prices,refund",
    "unregistered": "无证,未备案,黑托育,unregistered,unlicensed",
    "staff_conduct": "从业人员,资质,保育员,staff,qualification,conduct",
    "kindergarten_class": "幼儿园,托班,kindergarten,nursery class",
    "nursing_room": "母婴室,哺乳室,nursing room,baby care room",
    "other": "其他,other",
}


# ---------------------------------------------------------------------------------------------- wire format


class Open311Error(Output):
    code: int
    description: str


class Open311Endpoint(Output):
    specification: str
    url: str
    changeset: dt.datetime
    type: str
    formats: list[str]


class Open311Discovery(Output):
    changeset: dt.datetime
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Service(Output):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311AttributeValue(Output):
    key: str
    name: str


class Open311Attribute(Output):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[Open311AttributeValue]


class Open311ServiceDefinition(Output):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Filed(Output):
    service_request_id: str
    service_notice: str
    account_id: str | None


class Open311Request(Output):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str
    service_notice: str
    requested_datetime: dt.datetime
    updated_datetime: dt.datetime
    expected_datetime: dt.datetime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


# Form text never holds control characters (the input gate refuses them: backend/core/inputs.py);
# the document says so, so that clients (and schema-driven fuzzers) know it.
_NO_CONTROL = r"^[^\x00-\x08\x0e-\x1f\x7f]*$"


Text = Annotated[str, msgspec.Meta(pattern=_NO_CONTROL)]


def _param(description: str) -> Any:
    return msgspec.Meta(description=description)


class Open311Form(msgspec.Struct, kw_only=True):
    """The POST form (``application/x-www-form-urlencoded``). Parameters the spec defines that are
    not listed here (``attribute[…]``) are ignored."""

    api_key: Annotated[Text, _param("A registered client's key")]
    service_code: Annotated[Text, _param("A service_code from services.json")]
    description: Annotated[Text, _param("What happened (required here; at most 4,000 characters, no HTML)")]
    lat: Annotated[Text | None, _param("WGS-84 latitude (decimal degrees); with long")] = None
    long: Annotated[Text | None, _param("WGS-84 longitude (decimal degrees); with lat")] = None
    address_string: Annotated[Text | None, _param("An address, when lat/long are not given (at most 200)")] = None
    address_id: Annotated[Text | None, _param("Ignored (no address repository): give lat/long or an address")] = None
    email: Annotated[Text | None, _param("Not stored: complaints keep no e-mail address")] = None
    device_id: Annotated[Text | None, _param("The reporting device (rate limits), at most 64 characters")] = None
    account_id: Annotated[Text | None, _param("Ignored")] = None
    first_name: Annotated[Text | None, _param("Contact name (officers only)")] = None
    last_name: Annotated[Text | None, _param("Contact name (officers only)")] = None
    phone: Annotated[Text | None, _param("Contact phone (officers only)")] = None
    media_url: Annotated[Text | None, _param("http(s) link to a photo; never fetched, passed on as text")] = None
    jurisdiction_id: Annotated[Text | None, _param("Ignored (one jurisdiction: Daqing)")] = None


# ---------------------------------------------------------------------------------------------- errors


def _problem(status: int, en: str, zh: str) -> AppError:
    return AppError(en, detail_zh=zh, status_code=status, code="open311")


def _bad(en: str, zh: str) -> AppError:
    return _problem(400, en, zh)


def _not_found(en: str, zh: str) -> AppError:
    return _problem(404, en, zh)


_QUERY_HELP = {
    "service_request_id": "a comma-separated list of DQ-<n> (at most 100)",
    "service_code": "one of the service_code values of services.json",
    "start_date": "a W3C date-time such as 2026-01-01T00:00:00+08:00",
    "end_date": "a W3C date-time such as 2026-01-31T23:59:59+08:00",
    "status": "open, closed, or both comma-separated",
    "jurisdiction_id": "at most 200 characters",
}


def _validation_description(exc: ValidationException) -> str:
    """Litestar's parameter errors, in words a client's developer can act on."""
    parts = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "").removeprefix("data.") or "request"
        message = str(item.get("message") or "")
        if "missing required field" in message:
            missing = message.rsplit("`", 2)[-2] if message.count("`") >= 2 else key
            parts.append(f"{missing} is required / 缺少参数 {missing}")
        elif "got `array`" in message:
            parts.append(f"{key} is given more than once / 参数 {key} 重复")
        elif key in _QUERY_HELP:
            parts.append(f"{key} must be {_QUERY_HELP[key]} / 参数 {key} 无效")
        else:
            parts.append(f"invalid {key} / 参数 {key} 无效")
    return "; ".join(parts) or f"{exc.detail} / 请求参数无效"


def _app_handler(exc: Exception) -> Any:
    for cls in type(exc).__mro__:
        if cls in EXCEPTION_HANDLERS:
            return EXCEPTION_HANDLERS[cls]  # type: ignore[index]
    return EXCEPTION_HANDLERS[Exception]


def open311_error(request: Request[Any, Any, Any], exc: Exception) -> Response[list[Open311Error]]:
    """Every error under /open311/v2 in the spec's format. The app's handlers decide the status and
    the words (and log what they log); rule violations (422) answer 400 here, as the spec knows no 422."""
    headers: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        status, description = 400, _validation_description(exc)
    else:
        answer = _app_handler(exc)(request, exc)
        body: ErrorBody = answer.content
        status = 400 if body.status_code == 422 else body.status_code
        description = f"{body.detail} / {body.detail_zh}"
        if body.code not in ("open311", "bad_request", "forbidden", "not_found", "unavailable", "internal_error"):
            description = f"{body.code}: {description}"
        headers = {k: v for k, v in answer.headers.items() if k.lower() in ("retry-after",)}
    return Response(
        [Open311Error(code=status, description=description)],
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the spec-format errors a route may answer with."""
    words = {
        400: "Missing or bad parameters",
        403: "Unknown or revoked api_key",
        404: "Not found",
        413: "Request too large",
        429: "Too many requests",
        503: "Temporarily unavailable",
    }
    return {
        s: ResponseSpec(data_container=list[Open311Error], description=words[s], generate_examples=False)
        for s in statuses
    }


async def require_form(request: Request[Any, Any, Any]) -> None:
    """Before the body is read: it must be form-encoded (this replaces the app-wide JSON check)."""
    if request.content_type[0] != "application/x-www-form-urlencoded":
        raise _bad(
            "Send the parameters as application/x-www-form-urlencoded",
            "请以 application/x-www-form-urlencoded 格式提交参数",
        )


# ---------------------------------------------------------------------------------------------- helpers


def _json_resource(name: str, what: str) -> str:
    """'DQ-12.json' -> 'DQ-12'; other formats do not exist here."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt.lower() != "json" or not stem:
        raise _not_found(
            f"No such {what}: this server offers the JSON format only (.json)",
            "未找到：本接口仅提供 JSON 格式（.json）",
        )
    return stem


def _service_name(code: str) -> str:
    category = CATEGORIES[code]
    return f"{category.name_zh} {category.name_en}"


def _w3c(value: dt.datetime) -> dt.datetime:
    """China time, whole seconds: encodes as 2026-11-28T10:00:00+08:00."""
    return value.astimezone(CHINA).replace(microsecond=0)


_W3C_DATETIME = Annotated[dt.datetime, msgspec.Meta(tz=True)]


def _date_parameter(what: str) -> Any:
    return QueryParameter(
        required=False,
        max_length=64,
        description=f"{what}: a W3C date-time with its offset (2026-01-01T00:00:00+08:00 or …Z)",
        schema_extra={"format": "date-time"},
    )


def _instant(name: str, raw: str | None) -> dt.datetime | None:
    """A W3C (RFC 3339) date-time with an offset, in UTC; clamped to what Python can hold."""
    if raw is None:
        return None
    try:
        value = msgspec.convert(raw.strip(), _W3C_DATETIME)
    except msgspec.ValidationError as exc:
        raise _bad(f"{name} must be {_QUERY_HELP[name]}", f"参数 {name} 须为带时区的日期时间") from exc
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        return _EARLIEST if value.year < 5000 else _LATEST


def _shift(value: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    try:
        return value + delta
    except OverflowError:
        return _EARLIEST if delta < dt.timedelta(0) else _LATEST


def _public_position(value: float | None) -> float | None:
    return None if value is None else round(value, PUBLIC_DECIMALS)


async def _names(db: AsyncSession) -> tuple[dict[str, str], dict[int, str]]:
    departments = dict((await db.execute(select(Department.code, Department.name_zh))).all())  # type: ignore[arg-type]
    units = dict((await db.execute(select(Unit.code, Unit.name_zh))).all())  # type: ignore[arg-type]
    return departments, units


def _time_limits(settings: Settings) -> str:
    ack, resolve = settings.complaint_ack_working_days, settings.complaint_resolve_working_days
    return (
        f"受理登记后{ack}个工作日内响应，{resolve}个工作日内办结。"
        f" Acknowledged within {ack} working day(s), resolved within {resolve} working days."
    )


# ---------------------------------------------------------------------------------------------- filing


async def _registered_client(db: AsyncSession, api_key: str) -> Open311Client:
    key = api_key.strip()
    found = None
    if key and len(key) <= MAX_API_KEY:
        found = (
            await db.execute(
                select(Open311Client).where(
                    Open311Client.key_digest == token_digest(key), Open311Client.revoked_at.is_(None)
                )
            )
        ).scalar_one_or_none()
    if found is None:
        raise Forbidden("Invalid api_key", detail_zh="api_key 无效或已停用", code="open311")
    return found


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _coordinate(name: str, raw: str, limit: int) -> float:
    if not _COORDINATE.match(raw) or not -limit <= float(raw) <= limit:
        raise _bad(
            f"{name} must be a decimal number from -{limit} to {limit} (WGS-84 degrees)",
            f"{name} 须为 -{limit} 至 {limit} 之间的十进制度数（WGS-84）",
        )
    return float(raw)


def _media_note(raw: str) -> str:
    url = raw.strip()
    bad = _bad("media_url must be an http or https URL of at most 500 characters", "media_url 须为 http(s) 链接")
    if len(url) > MAX_MEDIA_URL or any(c.isspace() or ord(c) < 32 or c in "<>\"'\\" for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise bad from exc
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
        raise bad
    return f"\n\n[media_url（未经核实，服务器未下载 unverified, not fetched）: {url}]"


def _contact_name(first: str | None, last: str | None) -> str | None:
    if not first and not last:
        return None
    if _CJK.search((first or "") + (last or "")):
        return f"{last or ''}{first or ''}"  # 姓在前
    return " ".join(x for x in (first, last) if x)


def _contact_phone(raw: str | None) -> str | None:
    return None if raw is None else re.sub(r"[().]", "", raw).strip() or None


# ComplaintForm field -> what the Open311 parameter it came from must be (English, Chinese).
_FORM_HELP = {
    "description": (
        "description must not contain HTML tags or control characters",
        "投诉内容不能包含 HTML 标签或控制字符",
    ),
    "address": (
        "address_string must be one line of at most 200 characters, without HTML",
        "地址须为一行、不超过200字，且不含 HTML",
    ),
    "contact_name": (
        "first_name and last_name together must be one line of at most 40 characters, without HTML",
        "姓名须为一行、合计不超过40字，且不含 HTML",
    ),
    "contact_phone": (
        "phone must be 6 to 20 digits (a leading +, spaces and - allowed)",
        "电话须为6至20位数字（可含开头的 +、空格和 -）",
    ),
}


def complaint_form(data: Open311Form) -> ComplaintForm:
    """The Open311 parameters as the app's filing form (400 naming the parameter otherwise)."""
    if data.service_code.strip() not in CATEGORIES:
        raise _bad(
            f"Unknown service_code {data.service_code.strip()[:40]!r}: see services.json",
            "未知的 service_code，请查看 services.json",
        )
    description = (data.description or "").strip()
    if not description:
        raise _bad("description is required", "请填写投诉内容（description）")
    if len(description) > MAX_DESCRIPTION:
        raise _bad(f"description is longer than {MAX_DESCRIPTION} characters", f"投诉内容不能超过{MAX_DESCRIPTION}个字")
    if data.media_url and data.media_url.strip():
        description += _media_note(data.media_url)
        if len(description) > MAX_DESCRIPTION:
            raise _bad(
                f"description and media_url together are longer than {MAX_DESCRIPTION} characters",
                f"投诉内容与 media_url 合计不能超过{MAX_DESCRIPTION}个字",
            )
    lat, lng, address = _text(data.lat), _text(data.long), _text(data.address_string)
    if (lat is None) != (lng is None):
        raise _bad("Give both lat and long", "请同时提供纬度 lat 和经度 long")
    if lat is None and address is None:
        if _text(data.address_id):
            raise _bad(
                "address_id is not supported: give lat and long or address_string",
                "不支持 address_id，请提供经纬度或地址",
            )
        raise _bad("Give lat and long, or address_string", "请提供经纬度（lat、long）或地址（address_string）")
    fields: dict[str, Any] = {
        "category": data.service_code.strip(),
        "description": description,
        "target_type": "place",
        "lat": None if lat is None else _coordinate("lat", lat, 90),
        "lng": None if lng is None else _coordinate("long", lng, 180),
        "address": address,
        "contact_name": _contact_name(_text(data.first_name), _text(data.last_name)),
        "contact_phone": _contact_phone(_text(data.phone)),
    }
    try:
        return msgspec.convert({k: v for k, v in fields.items() if v is not None}, ComplaintForm)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else ""
        en, zh = _FORM_HELP.get(field, (f"Invalid {field or 'request'}", "参数无效"))
        raise _bad(en, zh) from exc


def _device(client: Open311Client, device_id: str | None) -> str | None:
    device = _text(device_id)
    if device is None:
        return None
    if len(device) > MAX_DEVICE_ID or any(ord(c) < 32 or ord(c) == 127 for c in device):
        raise _bad("device_id must be at most 64 printable characters", "device_id 须为不超过64个可打印字符")
    return f"open311:{client.id}:{device}"


def _filed_notice(reference: str, tracking_code: str, urgent: bool) -> str:
    notice = (
        f"已受理登记，编号 {reference}。查询码 {tracking_code}（仅显示一次，请妥善保存，凭码可在大庆托育平台查看办理进度）。"
        f" Received as {reference}; tracking code {tracking_code} (shown once: keep it to follow the complaint"
        " on the Daqing childcare platform)."
    )
    if urgent:
        notice += " 如儿童正处于危险之中，请立即拨打110。 If a child is in danger now, call 110."
    return notice


# ---------------------------------------------------------------------------------------------- reading


def _row_out(
    c: Complaint, note: str | None, departments: dict[str, str], units: dict[int, str], notice: str
) -> Open311Request:
    return Open311Request(
        service_request_id=service.reference(c.number),
        status="open" if c.status in OPEN else "closed",
        status_notes=note,
        service_name=_service_name(c.category),
        service_code=c.category,
        description=None,  # never published
        agency_responsible="、".join(
            departments.get(code, code) for code in sorted(c.department_codes, key=lambda d: d.startswith("gov_"))
        ),
        service_notice=notice,
        requested_datetime=_w3c(c.created_at),
        updated_datetime=_w3c(c.updated_at),
        expected_datetime=_w3c(c.resolve_due_at) if c.status in OPEN else None,
        address=f"黑龙江省大庆市{units[c.unit_code]}" if c.unit_code in units else None,
        address_id=None,
        zipcode=None,
        lat=_public_position(c.lat),
        long=_public_position(c.lng),
        media_url=None,  # photos and links are never published
    )


async def public_requests(db: AsyncSession, settings: Settings, *conditions: Any) -> list[Open311Request]:
    latest_note = (
        select(ComplaintUpdate.public_note)
        .where(ComplaintUpdate.complaint_id == Complaint.id, ComplaintUpdate.public_note.is_not(None))
        .order_by(ComplaintUpdate.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await db.execute(
            select(Complaint, latest_note)
            .where(Complaint.category.not_in(HIDDEN_CATEGORIES), *conditions)
            .order_by(Complaint.created_at.desc(), Complaint.number.desc())
            .limit(MAX_RESULTS)
        )
    ).all()
    departments, units = await _names(db)
    notice = _time_limits(settings)
    return [_row_out(c, note, departments, units, notice) for c, note in rows]


def _numbers(ids: str) -> list[int]:
    return sorted({int(part.strip()[3:]) for part in ids.split(",")})


# ---------------------------------------------------------------------------------------------- routes

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
                service_name=_service_name(code),
                description=description,
                metadata=False,
                type="realtime",
                keywords=_KEYWORDS.get(code, ""),
                group=_GROUPS.get(code, _GROUPS["other"]),
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
    code = _json_resource(service_code, "service")
    if code not in CATEGORIES:
        raise _not_found(f"No service {code[:40]!r}", "未找到该服务类别")
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
    caller = await _registered_client(db, data.api_key)
    form = complaint_form(data)
    device = _device(caller, data.device_id)
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
            service_notice=_filed_notice(filed.reference, filed.tracking_code, filed.urgent),
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
    start_date: Annotated[str | None, _date_parameter("Earliest requested_datetime")] = None,
    end_date: Annotated[str | None, _date_parameter("Latest requested_datetime")] = None,
    status: Annotated[
        str | None, QueryParameter(pattern=STATUS_PATTERN, required=False, description="open, closed or both")
    ] = None,
    jurisdiction_id: Annotated[
        str | None, QueryParameter(required=False, max_length=200, description="Ignored (one jurisdiction)")
    ] = None,
) -> list[Open311Request]:
    await autocommit_reads(db)
    if service_request_id is not None:
        return await public_requests(db, state.settings, Complaint.number.in_(_numbers(service_request_id)))
    start = _instant("start_date", start_date)
    end = _instant("end_date", end_date)
    if start is None and end is None:
        end = utcnow()
        start = _shift(end, -DEFAULT_WINDOW)
    elif start is None:
        start = _shift(end, -DEFAULT_WINDOW)  # type: ignore[arg-type]
    elif end is None:
        end = _shift(start, DEFAULT_WINDOW)
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
    stem = _json_resource(service_request_id, "service request")
    match = _ID.match(stem)
    found = await public_requests(db, state.settings, Complaint.number == int(match.group(1))) if match else []
    if not found:
        raise _not_found(f"No service request {stem[:40]!r}", "未找到该投诉")
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
    _json_resource(token, "token")
    raise _not_found(
        "Unknown token: this server issues no tokens; POST requests.json returns the service_request_id",
        "未找到该令牌：本接口不签发令牌，提交时直接返回投诉编号",
    )


@get("/{resource:path}", opt=requires(P.OPEN311), include_in_schema=False)
async def unknown_resource(resource: Annotated[str, PathParameter()]) -> None:
    """Anything else under /open311/v2 (e.g. an .xml resource): 404 in the spec's format."""
    raise _not_found(
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


# ---------------------------------------------------------------------------------------------- clients (CLI)


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def add_client(db: AsyncSession, name: str) -> tuple[uuid.UUID, str]:
    """Register a client; returns its id and its key (the key is not kept, only its digest)."""
    key = new_api_key()
    client = Open311Client(id=uuid.uuid4(), name=name, key_digest=token_digest(key))
    db.add(client)
    await db.flush()
    return client.id, key


async def revoke_client(db: AsyncSession, client_id: uuid.UUID) -> bool:
    result = await db.execute(
        update(Open311Client)
        .where(Open311Client.id == client_id, Open311Client.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _run_clients(settings: Settings, url: str, args: argparse.Namespace) -> int:
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            if args.action == "add":
                client_id, key = await add_client(db, args.name)
                await tx.commit_outside_request(db)
                print(f"client {client_id} ({args.name})")
                print(f"api_key {key}")
                print(
                    "The key is shown only this once; keep it safe. 此 api_key 仅显示一次，请妥善保存。",
                    file=sys.stderr,
                )
                return 0
            if args.action == "revoke":
                revoked = await revoke_client(db, args.client_id)
                await tx.commit_outside_request(db)
                print("revoked" if revoked else "no such active client")
                return 0 if revoked else 1
            rows = (await db.execute(select(Open311Client).order_by(Open311Client.created_at))).scalars()
            for c in rows:
                state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
                print(f"{c.id}  {c.created_at:%Y-%m-%d}  {state:<24}  {c.name}")
            return 0
    finally:
        await engine.dispose()


def clients_command(settings: Settings, url: str, argv: Sequence[str]) -> int:
    """``python -m backend open311-client add "<name>" | revoke <id> | list``."""
    parser = argparse.ArgumentParser(prog="python -m backend open311-client", description="Open311 api keys")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a client and print its new api_key (once)")
    add.add_argument("name", type=lambda s: s.strip()[:100] or parser.error("a name is required"))
    revoke = actions.add_parser("revoke", help="revoke a client's key at once")
    revoke.add_argument("client_id", type=uuid.UUID)
    actions.add_parser("list", help="list clients")
    args = parser.parse_args(list(argv))
    return asyncio.run(_run_clients(settings, url, args))
