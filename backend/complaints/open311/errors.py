"""Open311 errors in the spec's format (``[{"code", "description"}]``) and their OpenAPI entries."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec

from backend.complaints.open311.wire import Open311Error
from backend.core.errors import EXCEPTION_HANDLERS, AppError, ErrorBody


def _problem(status: int, en: str, zh: str) -> AppError:
    return AppError(en, detail_zh=zh, status_code=status, code="open311")


def bad_parameter(en: str, zh: str) -> AppError:
    return _problem(400, en, zh)


def not_found(en: str, zh: str) -> AppError:
    return _problem(404, en, zh)


QUERY_HELP = {
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
        elif key in QUERY_HELP:
            parts.append(f"{key} must be {QUERY_HELP[key]} / 参数 {key} 无效")
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
        raise bad_parameter(
            "Send the parameters as application/x-www-form-urlencoded",
            "请以 application/x-www-form-urlencoded 格式提交参数",
        )
