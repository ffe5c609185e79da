"""One error shape for every failure, and the handlers that produce it.

Every error answers JSON::

    {"status_code": 422, "code": "class_cap_exceeded",
     "detail": "English explanation", "detail_zh": "中文说明", "extra": {...}}

``code`` is stable and machine-readable; ``detail_zh`` is what the PWA shows (Chinese first),
``detail`` the English. No handler ever returns a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from asyncpg import exceptions as asyncpg_exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger("backend.errors")


class ErrorBody(msgspec.Struct, kw_only=True):
    status_code: int
    code: str
    detail: str
    detail_zh: str
    extra: dict[str, Any] | list[Any] | None = None


# Chinese defaults for errors raised by the framework itself.
_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Bad request", "请求无效"),
    401: ("unauthenticated", "Sign in required", "请先登录"),
    403: ("forbidden", "Not allowed", "无权执行此操作"),
    404: ("not_found", "Not found", "未找到"),
    405: ("method_not_allowed", "Method not allowed", "不支持该请求方法"),
    409: ("conflict", "Conflict with the current state", "与当前状态冲突"),
    413: ("body_too_large", "Request body too large", "请求内容过大"),
    415: ("unsupported_media_type", "Unsupported media type", "不支持的内容类型"),
    422: ("rule_violation", "The request breaks a rule", "请求不符合规则"),
    429: ("rate_limited", "Too many requests, try again later", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "Internal error", "服务器内部错误"),
    503: ("unavailable", "Service temporarily unavailable, try again", "服务暂时不可用，请稍后重试"),
}


class AppError(HTTPException):
    """An error the app raises on purpose, with a stable code and a Chinese message."""

    status_code = 400
    code = "bad_request"
    detail_zh = "请求无效"

    def __init__(
        self,
        detail: str,
        *,
        detail_zh: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status_code or self.status_code, headers=headers)
        self.code = code or self.code
        self.detail_zh = detail_zh or self.detail_zh
        self.extra = extra


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"
    detail_zh = "请求无效"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"
    detail_zh = "请先登录"

    def __init__(self, detail: str = "Sign in required", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="daqing"'})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    detail_zh = "无权执行此操作"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail_zh = "未找到"

    def __init__(self, what: str = "resource", **kw: Any) -> None:
        kw.setdefault("detail_zh", "未找到该对象或无权访问")
        super().__init__(f"{what} not found", **kw)


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail_zh = "与当前状态冲突"


class RuleViolation(AppError):
    """422: the request is well-formed but breaks a domain rule; ``code`` names the rule."""

    status_code = 422
    code = "rule_violation"
    detail_zh = "请求不符合规则"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    detail_zh = "请求过于频繁，请稍后再试"

    def __init__(self, retry_after_s: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after_s))})
        kw.setdefault("extra", {"retry_after_s": max(1, retry_after_s)})
        super().__init__("Too many requests, try again later", **kw)


class Unavailable(AppError):
    status_code = 503
    code = "unavailable"
    detail_zh = "服务暂时不可用，请稍后重试"


def _response(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(content=body, status_code=body.status_code, media_type=MediaType.JSON, headers=headers)


def app_error_handler(_: Request[Any, Any, Any], exc: AppError) -> Response[ErrorBody]:
    return _response(
        ErrorBody(
            status_code=exc.status_code, code=exc.code, detail=str(exc.detail), detail_zh=exc.detail_zh, extra=exc.extra
        ),
        exc.headers,
    )


def http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Framework errors (validation, 404 on unknown routes, 405, 413 …) in the same shape."""
    code, default_en, default_zh = _DEFAULTS.get(exc.status_code, ("error", "Error", "请求失败"))
    detail = str(exc.detail) if exc.detail else default_en
    if isinstance(exc, ValidationException):
        code, detail_zh = "validation_error", "请求参数无效：" + _validation_summary(exc.extra)
    else:
        detail_zh = default_zh
    extra = exc.extra if isinstance(exc.extra, (dict, list)) and exc.extra else None
    return _response(
        ErrorBody(status_code=exc.status_code, code=code, detail=detail, detail_zh=detail_zh, extra=extra),
        exc.headers,
    )


def _validation_summary(extra: Any) -> str:
    if isinstance(extra, list):
        keys = [str(item.get("key")) for item in extra if isinstance(item, dict) and item.get("key")]
        if keys:
            return "、".join(keys)
    return "请检查输入"


# PostgreSQL SQLSTATEs we translate. Constraint names carry the rule (see RULES in each domain).
_PG_UNIQUE, _PG_FK, _PG_CHECK, _PG_EXCLUSION, _PG_RAISE = "23505", "23503", "23514", "23P01", "P0001"
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57")  # connection, insufficient resources, operator intervention

# constraint name -> (code, English, Chinese); domains register theirs at import time.
CONSTRAINT_MESSAGES: dict[str, tuple[str, str, str]] = {}


def register_constraint_messages(messages: dict[str, tuple[str, str, str]]) -> None:
    CONSTRAINT_MESSAGES.update(messages)


def _pg_error(exc: DBAPIError) -> tuple[str | None, str | None, str]:
    orig = getattr(exc, "orig", None)
    # SQLAlchemy's asyncpg adapter keeps the driver exception in __cause__.
    driver = getattr(orig, "__cause__", None) or orig
    sqlstate = getattr(driver, "sqlstate", None) or getattr(orig, "pgcode", None)
    constraint = getattr(driver, "constraint_name", None)
    message = getattr(driver, "message", None) or str(orig)
    return sqlstate, constraint, message


def integrity_error_handler(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[ErrorBody]:
    sqlstate, constraint, _message = _pg_error(exc)
    if constraint and constraint in CONSTRAINT_MESSAGES:
        code, en, zh = CONSTRAINT_MESSAGES[constraint]
        status = 409 if sqlstate in (_PG_UNIQUE, _PG_EXCLUSION) else 422
        return _response(ErrorBody(status_code=status, code=code, detail=en, detail_zh=zh))
    if sqlstate in (_PG_UNIQUE, _PG_EXCLUSION):
        return _response(
            ErrorBody(
                status_code=409, code="conflict", detail="Already exists or overlaps", detail_zh="已存在或时间冲突"
            )
        )
    if sqlstate == _PG_FK:
        return _response(
            ErrorBody(
                status_code=422,
                code="unknown_reference",
                detail="Refers to something that does not exist",
                detail_zh="引用的对象不存在",
            )
        )
    log.warning("unmapped integrity error sqlstate=%s constraint=%s", sqlstate, constraint)
    return _response(
        ErrorBody(
            status_code=422,
            code="rule_violation",
            detail="The request breaks a data rule",
            detail_zh="请求不符合数据规则",
        )
    )


def dbapi_error_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[ErrorBody]:
    sqlstate, _constraint, message = _pg_error(exc)
    if sqlstate == _PG_RAISE and message.startswith("rule:"):
        # Triggers raise "rule:<code>|<English>|<Chinese>".
        code, _, rest = message[5:].partition("|")
        en, _, zh = rest.partition("|")
        return _response(ErrorBody(status_code=422, code=code, detail=en, detail_zh=zh or en))
    if sqlstate in ("40001", "40P01"):
        return _response(
            ErrorBody(
                status_code=409, code="retry", detail="Concurrent update, please retry", detail_zh="并发冲突，请重试"
            ),
            {"Retry-After": "1"},
        )
    if sqlstate == "57014":  # statement timeout / cancel: overloaded rather than down
        return unavailable_handler(request, exc, busy=True)
    if (
        exc.connection_invalidated
        or isinstance(exc, (OperationalError, InterfaceError))
        or (sqlstate and sqlstate[:2] in _PG_UNAVAILABLE_CLASSES)
    ):
        return unavailable_handler(request, exc)
    if sqlstate and sqlstate[:2] == "22":  # data exception: value out of range, bad text representation …
        return _response(
            ErrorBody(
                status_code=400,
                code="bad_value",
                detail="A value is out of range or malformed",
                detail_zh="参数取值超出范围或格式错误",
            )
        )
    return internal_error_handler(request, exc)


DB_RETRY_AFTER_S = 2


def unavailable_handler(request: Request[Any, Any, Any], exc: Exception, *, busy: bool = False) -> Response[ErrorBody]:
    """The database is down, restarting, refusing connections or too slow: 503, retryable.

    ``database_unavailable`` (cannot connect, connection lost) or ``database_busy`` (no pooled
    connection within DB_POOL_TIMEOUT_S, or a statement timed out); both with ``Retry-After`` and
    ``extra.retryable``. Whatever the request had not committed was rolled back; a write whose
    connection died during its COMMIT may have been saved (retry with the same Idempotency-Key)."""
    busy = busy or isinstance(exc, PoolTimeout)
    log.warning(
        "database %s on %s %s: %s",
        "busy" if busy else "unavailable",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    code = "database_busy" if busy else "database_unavailable"
    detail = "The service is busy, try again in a moment" if busy else "Service temporarily unavailable, try again"
    detail_zh = "服务繁忙，请稍后重试" if busy else "服务暂时不可用，请稍后重试"
    return _response(
        ErrorBody(
            status_code=503,
            code=code,
            detail=detail,
            detail_zh=detail_zh,
            extra={"retryable": True, "retry_after_s": DB_RETRY_AFTER_S},
        ),
        {"Retry-After": str(DB_RETRY_AFTER_S)},
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.error("unhandled error on %s %s", request.method, request.scope.get("route_handler"), exc_info=exc)
    return _response(
        ErrorBody(
            status_code=HTTP_500_INTERNAL_SERVER_ERROR,
            code="internal_error",
            detail="Internal error",
            detail_zh="服务器内部错误",
        )
    )


_ASYNCPG_UNAVAILABLE = (
    asyncpg_exc.PostgresConnectionError,
    asyncpg_exc.CannotConnectNowError,
    asyncpg_exc.TooManyConnectionsError,
    asyncpg_exc.ConnectionDoesNotExistError,
    asyncpg_exc.InterfaceError,
)


def _is_unavailable(exc: BaseException) -> bool:
    """Connection trouble that reaches a handler unwrapped: refused or reset sockets and timeouts
    (OSError; TimeoutError is one), the pool's timeout, and asyncpg's own errors when SQLAlchemy did
    not wrap them (raised while connecting: "the database system is shutting down/starting up")."""
    if isinstance(exc, (OSError, PoolTimeout, InterfaceError, OperationalError, _ASYNCPG_UNAVAILABLE)):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(exc, asyncpg_exc.PostgresError) and bool(sqlstate) and sqlstate[:2] in _PG_UNAVAILABLE_CLASSES


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) means the database cannot be reached right now (for background
    workers that retry, and log one line instead of a stack trace)."""
    if isinstance(exc, DBAPIError):
        sqlstate = _pg_error(exc)[0]
        if exc.connection_invalidated or (sqlstate and sqlstate[:2] in _PG_UNAVAILABLE_CLASSES):
            return True
    return _is_unavailable(exc) or (exc.__cause__ is not None and _is_unavailable(exc.__cause__))


def fallback_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    if _is_unavailable(exc) or (exc.__cause__ is not None and _is_unavailable(exc.__cause__)):
        return unavailable_handler(request, exc)
    return internal_error_handler(request, exc)


def undecodable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Text the client sent that does not decode (a multipart field that is not UTF-8, a part naming a
    charset that does not exist): the framework's parsers raise these while reading the request.
    Everything the app decodes itself is checked first (``backend.core.inputs``); this is the net."""
    if isinstance(exc, LookupError) and not str(exc).startswith("unknown encoding"):
        return fallback_handler(request, exc)  # a KeyError is a bug, not bad input
    return _response(
        ErrorBody(
            status_code=400,
            code="bad_encoding",
            detail="Malformed request: text that is not valid UTF-8, or an unknown charset",
            detail_zh="请求格式错误：文本不是有效的 UTF-8 编码，或字符集无法识别",
        )
    )


EXCEPTION_HANDLERS = {
    UnicodeDecodeError: undecodable_handler,
    LookupError: undecodable_handler,
    AppError: app_error_handler,
    HTTPException: http_exception_handler,
    IntegrityError: integrity_error_handler,
    DBAPIError: dbapi_error_handler,
    Exception: fallback_handler,
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a route may answer with."""
    descriptions = {s: f"{_DEFAULTS[s][1]} / {_DEFAULTS[s][2]}" for s in statuses}
    return {
        s: ResponseSpec(data_container=ErrorBody, description=descriptions[s], generate_examples=False)
        for s in statuses
    }


# The error statuses of most writes (a body, a signed-in caller, a scoped object, a conflict, a rule).
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
