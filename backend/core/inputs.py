"""The gate every HTTP request passes before its handler: bytes that are not well-formed input are
refused here, once for all routes, with a 4xx JSON answer and no traceback.

What it refuses (``docs/input-handling.md`` lists each check with its error code):

* a path or query string that is not percent-encoded UTF-8 (400 ``bad_encoding``); a query that
  carries NUL or another control character (422 ``bad_text``); raw UTF-8 in a query string (``curl '…?q=大庆'``) is accepted and
  percent-encoded on the way in, because Litestar's parser only reads ASCII there;
* an integer path or query parameter outside PostgreSQL's 64-bit range, a float that is not finite
  (422 ``out_of_range``): they would otherwise reach asyncpg;
* a path with NUL or a control character, or a segment longer than 255 bytes (404: nothing has such
  a name);
* an unsafe request (POST, PUT, PATCH, DELETE) whose ``Origin`` is neither one of ALLOWED_ORIGINS nor
  the server's own (403 ``cross_origin``): a page elsewhere cannot sign a browser in or out, or post
  with its cookie;
* a body whose ``Content-Type`` is not JSON on a JSON route (415): only ``application/json`` (with
  ``charset=utf-8`` at most), so a cross-site ``text/plain`` form cannot reach them (form and upload
  routes check their own types in their ``before_request`` hooks, in their own error formats);
* a JSON body that is not strict JSON (400 ``malformed_json``, naming the problem): invalid UTF-8,
  nesting deeper than ``MAX_DEPTH``, duplicate keys, ``NaN``/``Infinity``; and well-formed JSON no
  field can take (422): numbers beyond 64 bits or double precision (``out_of_range``), NUL or a lone
  surrogate (``\\ud800``) in a string (``bad_text``);
* a form body (urlencoded) that is not percent-encoded UTF-8 (400 ``bad_encoding``) or carries NUL
  (422 ``bad_text``).

The checked JSON value is kept in the scope; ``backend.core.strict`` converts it strictly into the
handler's type.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import types
import typing
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import CookieParameter, HeaderParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.core.errors import AppError, BadRequest, Forbidden, NotFound, RuleViolation

MAX_DEPTH = 32
MAX_SEGMENT_BYTES = 255
# Dates and times anywhere in a request (query parameters, JSON fields) lie in these years: the
# service adds days and months to them, and Python's dates end at 9999-12-31.
MIN_YEAR, MAX_YEAR = 1900, 2199
INT64 = 2**63 - 1
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHECKED_JSON = "dq.checked_json"  # scope key: the decoded, checked JSON body
_NO_BODY = object()

# Control characters (C0 except the whitespace ones: tab, newline, vertical tab, form feed, carriage
# return; and DEL) never belong in a URL. (Vertical tab and form feed are whitespace to schemas' `\s`.)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"
    detail_zh = "不支持的内容类型"


def malformed(en: str, zh: str) -> BadRequest:
    return BadRequest(
        f"Malformed JSON body: {en}",
        detail_zh=f"JSON 请求体格式错误：{zh}",
        code="malformed_json",
        extra={"problem": en, "source": "body"},
    )


def bad_encoding(en: str, zh: str, where: str) -> BadRequest:
    return BadRequest(
        f"Malformed request {where}: {en}",
        detail_zh=f"请求格式错误：{zh}",
        code="bad_encoding",
        extra={"problem": en, "source": where},
    )


def out_of_range(name: str, where: str) -> RuleViolation:
    """422: well-formed, and even schema-valid (the document cannot bound a date), but out of range."""
    return RuleViolation(
        f"The {where} parameter {name!r} is out of range",
        detail_zh=f"参数 {name} 取值超出范围",
        code="out_of_range",
        extra={"key": name, "source": where},
    )


# ------------------------------------------------------------------------------------------- text


def bad_text(where: str) -> RuleViolation:
    """422: well-formed text (it may even fit the schema) that no field accepts: NUL, control characters."""
    return RuleViolation(
        f"The request {where} contains NUL or a control character",
        detail_zh="请求中包含 NUL 或控制字符",
        code="bad_text",
        extra={"source": where},
    )


def utf8_text(raw: bytes, where: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_encoding("not valid UTF-8", "不是有效的 UTF-8 编码", where) from None
    if _CONTROL.search(text):
        raise bad_text(where)
    return text


def check_form_encoded(raw: bytes, where: str) -> None:
    """``a=1&b=%E5%A4%A7``: every name and value percent-decodes to UTF-8 without control characters."""
    for piece in raw.split(b"&"):
        for part in piece.replace(b"+", b" ").split(b"=", 1):
            utf8_text(unquote_to_bytes(part), where)


# ------------------------------------------------------------------------------------------- JSON


def _depth(body: bytes) -> int:
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise malformed(f"duplicate key {key[:40]!r}", f"重复的键 {key[:40]}")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise malformed(f"{name} is not JSON", f"{name} 不是合法的 JSON 数值")


def _integer(text: str) -> int:
    if len(text) > 20 or abs(value := int(text)) > INT64:
        raise out_of_range("an integer beyond 64 bits", "body")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise out_of_range("a number beyond double precision", "body")
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _no_nul(value: Any) -> None:
    """NUL (PostgreSQL text cannot hold it) and lone surrogates (``"\\ud800"``: not UTF-8) are refused."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise bad_text("body")
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)


def checked_json(body: bytes) -> Any:
    """Decode a JSON body strictly, or raise 400 naming what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("not valid UTF-8", "不是有效的 UTF-8 编码") from None
    if _depth(body) > MAX_DEPTH:
        raise malformed(f"nested deeper than {MAX_DEPTH} levels", f"嵌套超过 {MAX_DEPTH} 层")
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_constant, parse_int=_integer, parse_float=_float
        )
    except json.JSONDecodeError as exc:
        raise malformed(f"{exc.msg} at byte {exc.pos}", "不是合法的 JSON") from None
    except RuleViolation:
        raise
    except (ValueError, RecursionError):
        raise malformed("not valid JSON", "不是合法的 JSON") from None
    _no_nul(value)
    return value


# ------------------------------------------------------------------------------------ the handler


class _Plan:
    """What the gate checks for one route handler, worked out once."""

    __slots__ = ("body", "dates", "floats", "ints")

    def __init__(self, handler: Any) -> None:
        self.body: RequestEncodingType | None = None
        self.ints: set[str] = set()
        self.floats: set[str] = set()
        self.dates: set[str] = set()
        for name, field in handler.parsed_fn_signature.parameters.items():
            kwarg = field.kwarg_definition
            if name == "data":
                media = getattr(kwarg, "media_type", None)
                self.body = RequestEncodingType(media) if media else RequestEncodingType.JSON
                continue
            if isinstance(kwarg, (HeaderParameter, CookieParameter)) or getattr(kwarg, "header", None):
                continue
            query = getattr(kwarg, "query", None) or getattr(kwarg, "name", None) or name
            if _holds(field.annotation, int):
                self.ints.add(query)
            elif _holds(field.annotation, float):
                self.floats.add(query)
            elif _holds(field.annotation, dt.date) or _holds(field.annotation, dt.datetime):
                self.dates.add(query)


def _holds(annotation: Any, kind: type) -> bool:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _holds(args[0], kind)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_holds(a, kind) for a in args)
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        return any(_holds(a, kind) for a in args)
    return annotation is kind


_YEAR = re.compile(r"\s*([+-]?\d+)-")


def year_in_range(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def date_out_of_range(name: str, where: str) -> RuleViolation:
    return RuleViolation(
        f"The {where} value {name!r} is outside the years {MIN_YEAR} to {MAX_YEAR}",
        detail_zh=f"参数 {name} 的日期超出 {MIN_YEAR}—{MAX_YEAR} 年的范围",
        code="out_of_range",
        extra={"key": name, "source": where},
    )


def check_dates(value: Any, path: str = "data") -> None:
    """Every date and datetime in a converted body (Structs, lists, dicts) lies in the allowed years."""
    if isinstance(value, (dt.date, dt.datetime)):
        if not year_in_range(value.year):
            raise date_out_of_range(path, "body")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_dates(getattr(value, name), f"{path}.{name}" if path != "data" else name)
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            check_dates(item, f"{path}[{n}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_dates(item, f"{path}.{key}")


# By ``id()``, checked against the handler kept with it: an id can be reused by another app's handler.
_PLANS: dict[int, tuple[Any, _Plan]] = {}


def plan_for(handler: Any) -> _Plan:
    known = _PLANS.get(id(handler))
    if known is None or known[0] is not handler:
        known = _PLANS[id(handler)] = (handler, _Plan(handler))
    return known[1]


def _query_pairs(query: str) -> list[tuple[str, str]]:
    out = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            out.append((name, value))
    return out


def _check_number(name: str, raw: str, plan: _Plan, where: str) -> None:
    if name in plan.ints:
        text = raw.strip()
        if text.lstrip("+-").isdigit() and (len(text) > 20 or abs(int(text)) > INT64):
            raise out_of_range(name, where)
    elif name in plan.floats:
        try:
            value = float(raw)
        except ValueError:
            return  # Litestar reports it
        if not math.isfinite(value):
            raise out_of_range(name, where)
    elif name in plan.dates and (year := _YEAR.match(raw)) and not year_in_range(int(year.group(1))):
        raise date_out_of_range(name, where)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _own_origin(scope: Scope) -> str | None:
    host = _header(scope, b"host")
    return f"{scope.get('scheme', 'http')}://{host}" if host else None


def check_origin(scope: Scope, allowed: frozenset[str]) -> None:
    """An unsafe request from a browser names its page's origin: it must be ours."""
    if scope.get("method") not in UNSAFE_METHODS:
        return
    origin = _header(scope, b"origin")
    if origin is None:
        return
    origin = origin.strip().rstrip("/")
    if origin in allowed or origin == _own_origin(scope):
        return
    parts = urlsplit(origin)
    raise Forbidden(
        f"Cross-site request refused (Origin {parts.scheme}://{parts.netloc})"[:200],
        detail_zh="拒绝来自其他网站的请求",
        code="cross_origin",
    )


# Printable ASCII without "%": text that percent-decodes to itself, is UTF-8 and holds no control
# character, so the checks below need not decode it (most paths and queries are such).
_PLAIN = re.compile(rb"[!-$&-~]*")


def _no_such_path() -> NotFound:
    # no resource has such a name (and a file system refuses to look one up)
    return NotFound(
        "resource", extra={"problem": f"NUL, a control character or a segment over {MAX_SEGMENT_BYTES} bytes"}
    )


def check_url(scope: Scope, plan: _Plan) -> None:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    path = raw_path.split(b"?", 1)[0]
    if not _PLAIN.fullmatch(path):
        path = unquote_to_bytes(path)
        try:
            text = path.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_encoding("not valid UTF-8", "不是有效的 UTF-8 编码", "path") from None
        if _CONTROL.search(text):
            raise _no_such_path()
    if any(len(segment) > MAX_SEGMENT_BYTES for segment in path.split(b"/")):
        raise _no_such_path()
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, int) and abs(value) > INT64:
            raise out_of_range(name, "path")
    raw_query: bytes = scope.get("query_string", b"")
    if not raw_query:
        return
    try:
        query = raw_query.decode("ascii")
    except UnicodeDecodeError:
        query = utf8_text(raw_query, "query")  # raw UTF-8: accepted, percent-encoded for the parser
        scope["query_string"] = quote(query, safe="".join(chr(c) for c in range(0x21, 0x7F))).encode("ascii")
        query = scope["query_string"].decode("ascii")
    plain = _PLAIN.fullmatch(raw_query) is not None
    if plain and not (plan.ints or plan.floats or plan.dates):
        return
    for name, value in _query_pairs(query):
        if plain:
            name_text, value_text = name.replace("+", " "), value.replace("+", " ")
        else:
            name_text = utf8_text(unquote_to_bytes(name.replace("+", " ")), "query")
            value_text = utf8_text(unquote_to_bytes(value.replace("+", " ")), "query")
        _check_number(name_text, value_text, plan, "query")


def check_content_type(scope: Scope, expected: RequestEncodingType) -> None:
    raw = _header(scope, b"content-type") or ""
    media, _, options = raw.partition(";")
    media = media.strip().lower()
    if expected == RequestEncodingType.JSON:
        charset = re.search(r"charset\s*=\s*\"?([\w-]+)", options, re.IGNORECASE)
        if media != "application/json" or (charset and charset.group(1).lower() not in ("utf-8", "utf8")):
            raise UnsupportedMediaType(
                "Send the body as application/json (UTF-8)",
                detail_zh="请以 application/json（UTF-8）格式提交",
                extra={"expected": "application/json"},
            )


class InputGuardMiddleware:
    """The gate (see the module's docstring); it runs after routing, before authentication."""

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/") for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        plan = plan_for(handler) if handler is not None else None
        check_origin(scope, self.allowed)
        if plan is not None:
            check_url(scope, plan)
            if plan.body is not None and scope.get("method") in UNSAFE_METHODS:
                await self._check_body(scope, receive, plan.body)
        await self.app(scope, receive, send)

    async def _check_body(self, scope: Scope, receive: Receive, kind: RequestEncodingType) -> None:
        from litestar import Request

        request: Request[Any, Any, Any] = Request(scope, receive)
        if kind == RequestEncodingType.MULTI_PART:
            # the body is large and streamed: the routes' hooks check the type before it is read
            return
        if kind == RequestEncodingType.URL_ENCODED:
            # the routes' hooks answer a wrong type in their own format (Open311's); the text is checked here
            if (_header(scope, b"content-type") or "").split(";")[0].strip().lower() == kind.value:
                check_form_encoded(await request.body(), "body")
            return
        if (
            _header(scope, b"content-length") in (None, "0")
            and _header(scope, b"transfer-encoding") is None
            and _header(scope, b"content-type") is None
        ):
            return  # no body at all: Litestar reports a missing one
        check_content_type(scope, kind)
        if body := await request.body():
            scope[CHECKED_JSON] = checked_json(body)  # type: ignore[literal-required]


__all__ = ["CHECKED_JSON", "InputGuardMiddleware", "UnsupportedMediaType", "checked_json"]
