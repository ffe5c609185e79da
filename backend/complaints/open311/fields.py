"""Mapping Open311 parameters to the app's complaint form, and the small conversions both ways."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar.params import QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.complaints.models import MAX_DESCRIPTION, Open311Client
from backend.complaints.open311.errors import QUERY_HELP, bad_parameter, not_found
from backend.complaints.open311.wire import (
    CJK,
    COORDINATE,
    EARLIEST,
    LATEST,
    MAX_API_KEY,
    MAX_DEVICE_ID,
    MAX_MEDIA_URL,
    PUBLIC_DECIMALS,
    Open311Form,
)
from backend.complaints.routing import CATEGORIES
from backend.complaints.schemas import ComplaintForm
from backend.core.clock import CHINA
from backend.core.config import Settings
from backend.core.errors import Forbidden
from backend.core.security import token_digest
from backend.government.models import Department, Unit


def json_resource(name: str, what: str) -> str:
    """'DQ-12.json' -> 'DQ-12'; other formats do not exist here."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt.lower() != "json" or not stem:
        raise not_found(
            f"No such {what}: this server offers the JSON format only (.json)",
            "未找到：本接口仅提供 JSON 格式（.json）",
        )
    return stem


def service_name_of(code: str) -> str:
    category = CATEGORIES[code]
    return f"{category.name_zh} {category.name_en}"


def w3c(value: dt.datetime) -> dt.datetime:
    """China time, whole seconds: encodes as 2026-11-28T10:00:00+08:00."""
    return value.astimezone(CHINA).replace(microsecond=0)


_W3C_DATETIME = Annotated[dt.datetime, msgspec.Meta(tz=True)]


def date_parameter(what: str) -> Any:
    return QueryParameter(
        required=False,
        max_length=64,
        description=f"{what}: a W3C date-time with its offset (2026-01-01T00:00:00+08:00 or …Z)",
        schema_extra={"format": "date-time"},
    )


def instant(name: str, raw: str | None) -> dt.datetime | None:
    """A W3C (RFC 3339) date-time with an offset, in UTC; clamped to what Python can hold."""
    if raw is None:
        return None
    try:
        value = msgspec.convert(raw.strip(), _W3C_DATETIME)
    except msgspec.ValidationError as exc:
        raise bad_parameter(f"{name} must be {QUERY_HELP[name]}", f"参数 {name} 须为带时区的日期时间") from exc
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        return EARLIEST if value.year < 5000 else LATEST


def shift(value: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    try:
        return value + delta
    except OverflowError:
        return EARLIEST if delta < dt.timedelta(0) else LATEST


def public_position(value: float | None) -> float | None:
    return None if value is None else round(value, PUBLIC_DECIMALS)


async def display_names(db: AsyncSession) -> tuple[dict[str, str], dict[int, str]]:
    departments = dict((await db.execute(select(Department.code, Department.name_zh))).all())  # type: ignore[arg-type]
    units = dict((await db.execute(select(Unit.code, Unit.name_zh))).all())  # type: ignore[arg-type]
    return departments, units


def time_limits(settings: Settings) -> str:
    ack, resolve = settings.complaint_ack_working_days, settings.complaint_resolve_working_days
    return (
        f"受理登记后{ack}个工作日内响应，{resolve}个工作日内办结。"
        f" Acknowledged within {ack} working day(s), resolved within {resolve} working days."
    )


async def registered_client(db: AsyncSession, api_key: str) -> Open311Client:
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
    if not COORDINATE.match(raw) or not -limit <= float(raw) <= limit:
        raise bad_parameter(
            f"{name} must be a decimal number from -{limit} to {limit} (WGS-84 degrees)",
            f"{name} 须为 -{limit} 至 {limit} 之间的十进制度数（WGS-84）",
        )
    return float(raw)


def _media_note(raw: str) -> str:
    url = raw.strip()
    bad = bad_parameter(
        "media_url must be an http or https URL of at most 500 characters", "media_url 须为 http(s) 链接"
    )
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
    if CJK.search((first or "") + (last or "")):
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
        raise bad_parameter(
            f"Unknown service_code {data.service_code.strip()[:40]!r}: see services.json",
            "未知的 service_code，请查看 services.json",
        )
    description = (data.description or "").strip()
    if not description:
        raise bad_parameter("description is required", "请填写投诉内容（description）")
    if len(description) > MAX_DESCRIPTION:
        raise bad_parameter(
            f"description is longer than {MAX_DESCRIPTION} characters", f"投诉内容不能超过{MAX_DESCRIPTION}个字"
        )
    if data.media_url and data.media_url.strip():
        description += _media_note(data.media_url)
        if len(description) > MAX_DESCRIPTION:
            raise bad_parameter(
                f"description and media_url together are longer than {MAX_DESCRIPTION} characters",
                f"投诉内容与 media_url 合计不能超过{MAX_DESCRIPTION}个字",
            )
    lat, lng, address = _text(data.lat), _text(data.long), _text(data.address_string)
    if (lat is None) != (lng is None):
        raise bad_parameter("Give both lat and long", "请同时提供纬度 lat 和经度 long")
    if lat is None and address is None:
        if _text(data.address_id):
            raise bad_parameter(
                "address_id is not supported: give lat and long or address_string",
                "不支持 address_id，请提供经纬度或地址",
            )
        raise bad_parameter("Give lat and long, or address_string", "请提供经纬度（lat、long）或地址（address_string）")
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
        raise bad_parameter(en, zh) from exc


def device_key(client: Open311Client, device_id: str | None) -> str | None:
    device = _text(device_id)
    if device is None:
        return None
    if len(device) > MAX_DEVICE_ID or any(ord(c) < 32 or ord(c) == 127 for c in device):
        raise bad_parameter("device_id must be at most 64 printable characters", "device_id 须为不超过64个可打印字符")
    return f"open311:{client.id}:{device}"


def filed_notice(reference: str, tracking_code: str, urgent: bool) -> str:
    notice = (
        f"已受理登记，编号 {reference}。查询码 {tracking_code}（仅显示一次，请妥善保存，凭码可在大庆托育平台查看办理进度）。"
        f" Received as {reference}; tracking code {tracking_code} (shown once: keep it to follow the complaint"
        " on the Daqing childcare platform)."
    )
    if urgent:
        notice += " 如儿童正处于危险之中，请立即拨打110。 If a child is in danger now, call 110."
    return notice
