"""Malformed input over every route the app serves: raw bytes that schema-driven fuzzing never sends.

The routes come from the app itself (``app.routes``), so a new route is covered without touching this
file; the OpenAPI document only adds what it knows of a route's parameters and body. Against a real
server (``python -m backend serve``, its log captured), each route gets one request per
malformation, as a caller allowed to reach it (the first role its action admits, else anonymous):

* body (JSON routes): invalid UTF-8, deep arrays and objects, duplicate keys, integers beyond 64
  bits, floats beyond double, ``NaN``/``Infinity``, NUL and lone surrogates, overlong strings,
  boundary dates and times (0001-01-01, 9999-12-31, 24:00, leap days), wrong and missing content
  types, truncated and empty bodies; forms and multipart the same in their own encodings;
* every query, path and header parameter: invalid UTF-8, NUL, huge and negative numbers, ``NaN``,
  ``1e400``, the same boundary dates and times, overlong strings;
* ``/ws``: every query parameter likewise, and malformed messages;
* ``HEAD`` on every ``GET`` route.

It asserts no 5xx, an error answered as JSON, and no traceback in the server's log. About 4,500
requests; runs in well under a minute on two cores.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backend.app import create_app
from backend.core.authz import ACTIONS, Role
from backend.demo.data import DEMO_PASSWORD
from tests.conftest import make_settings
from tests.live import live_server, scratch_database

LOGINS: dict[Role, str] = {
    Role.CITY_ADMIN: "city.admin@daqing.example",
    Role.INSTITUTION_ADMIN: "inst.admin@daqing.example",
    Role.OFFICER: "health.officer@daqing.example",
    Role.INSTITUTION_STAFF: "inst.staff@daqing.example",
    Role.PARENT: "13800000001",
}
# Signing out (or erasing the account) would end the caller's session: these run anonymously.
SESSION_ENDING = re.compile(r"/logout|/erase")
ORIGIN = "http://127.0.0.1:8000"
CONCURRENCY = 6

BOUNDARY_DATES = ["0001-01-01", "9999-12-31", "2023-02-29", "2024-02-29", "1900-01-01", "2199-12-31"]
BOUNDARY_TIMES = ["24:00", "23:59:60", "00:00", "-01:00"]
BOUNDARY_DATETIMES = [
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-12:00",
    "2024-02-29T24:00:00+08:00",
]
# Percent-encoded where it goes into a URL.
PARAMETER_VALUES = [
    "%FF",
    "%C0%AF",  # overlong UTF-8
    "%ED%A0%80",  # a surrogate, encoded
    "%00",
    "a%00b",
    "%0A%0D",
    "1" + "0" * 30,
    "-1" + "0" * 30,
    "9223372036854775808",
    "-1",
    "1e400",
    "NaN",
    "Infinity",
    "x" * 4000,
    "%E5%A4%A7" * 600,
    "",
    *BOUNDARY_DATES,
    *BOUNDARY_TIMES,
    *[v.replace("+", "%2B") for v in BOUNDARY_DATETIMES],
]
PATH_VALUES = ["%FF", "%00", "1" + "0" * 30, "-1", "x" * 3000, "9999-12-31", "0001-01-01", "NaN"]
# (what the HTTP server itself refuses, such as DEL, never reaches the app: not sent)
HEADER_VALUES = ["x" * 4000, "a\tb", "é", "null", "-1", "1" + "0" * 30, "%00"]


def _app() -> Any:
    return create_app(make_settings(), database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")


APP = _app()
DOCUMENT = APP.openapi_schema.to_schema()


# ----------------------------------------------------------------------------- what to send


@dataclass
class Call:
    label: str
    method: str
    path: str
    role: Role | None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def sample(schema: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for ``schema`` (the base each body malformation starts from)."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o).get("type") != "null"] or schema[key]
            return sample(options[0], depth)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    fmt = schema.get("format")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        props = schema.get("properties", {})
        return {name: sample(props[name], depth + 1) for name in props}
    if kind == "array":
        return [sample(schema.get("items", {}), depth + 1)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1.5)), 1.5)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {
        "date": "2026-12-08",
        "date-time": "2026-12-08T09:00:00+08:00",
        "time": "09:00:00",
        "uuid": str(uuid.uuid4()),
        "email": "a@b.cn",
    }.get(fmt or "", "x" * max(1, int(schema.get("minLength", 1))))


def _replace(value: Any, schema: dict[str, Any], kinds: set[str], new: Any) -> Any:
    """``value`` with every leaf of one of ``kinds`` (a JSON type or a string format) set to ``new``."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o).get("type") != "null"] or schema[key]
            schema = _resolve(options[0])
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: _replace(v, props.get(k, {}), kinds, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, schema.get("items", {}), kinds, new) for v in value]
    kind = schema.get("format") if schema.get("format") in kinds else schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return new if kind in kinds and "enum" not in schema else value


def _raw(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def json_bodies(schema: dict[str, Any]) -> Iterator[tuple[str, bytes, str]]:
    """(label, body, content type): one per malformation."""
    base = sample(schema)
    ok = "application/json"
    yield "invalid utf-8", b'{"x": "\xff\xfe", "y": "\xc0\xaf"}', ok
    yield "invalid utf-8 in a valid body", _raw(base).replace(b'"x', b'"\xff', 1) + b" ", ok
    yield "deep arrays", b"[" * 5000 + b"]" * 5000, ok
    yield "deep objects", b'{"a":' * 3000 + b"1" + b"}" * 3000, ok
    yield "deep within limits", b"[" * 30 + b"]" * 30, ok
    if isinstance(base, dict) and base:
        first = next(iter(base))
        yield "duplicate keys", _raw(base)[:-1] + b", " + _raw({first: base[first]})[1:], ok
    yield "huge integers", _raw(_replace(base, schema, {"integer", "number"}, 10**30)), ok
    yield "huge integer literal", b'{"n": 1' + b"0" * 5000 + b"}", ok
    yield "huge floats", _raw(_replace(base, schema, {"number"}, 1e308)).replace(b"1e+308", b"1e400"), ok
    yield "NaN", _raw(_replace(base, schema, {"number", "integer"}, float("nan"))), ok
    yield "Infinity", b'{"n": Infinity, "m": -Infinity}', ok
    yield "NUL", _raw(_replace(base, schema, {"string"}, "a\x00b")), ok
    yield "lone surrogate", _raw(_replace(base, schema, {"string"}, "a\ud800b")), ok
    yield "escaped surrogate", _raw(base).replace(b'"x', b'"\\udc00x', 1), ok
    yield "overlong strings", _raw(_replace(base, schema, {"string"}, "长" * 100_000)), ok
    for value in BOUNDARY_DATES:
        yield f"date {value}", _raw(_replace(base, schema, {"date"}, value)), ok
    for value in BOUNDARY_DATETIMES:
        yield f"datetime {value}", _raw(_replace(base, schema, {"date-time"}, value)), ok
    for value in BOUNDARY_TIMES:
        yield f"time {value}", _raw(_replace(base, schema, {"time"}, value)), ok
    yield "text/plain", _raw(base), "text/plain"
    yield "form content type", _raw(base), "application/x-www-form-urlencoded"
    yield "latin-1 charset", _raw(base), "application/json; charset=latin-1"
    yield "no content type", _raw(base), ""
    yield "empty", b"", ok
    yield "null", b"null", ok
    yield "array", b"[]", ok
    yield "truncated", _raw(base)[:-1], ok
    yield "byte order mark", b"\xef\xbb\xbf" + _raw(base), ok
    yield "trailing garbage", _raw(base) + b"}", ok


def form_bodies(fields: list[str]) -> Iterator[tuple[str, bytes, str]]:
    form = "application/x-www-form-urlencoded"
    names = fields or ["x"]
    for label, value in (
        ("invalid utf-8", b"%FF%FE"),
        ("raw invalid bytes", b"\xff"),
        ("NUL", b"a%00b"),
        ("overlong", b"x" * 100_000),
        ("huge number", b"1" + b"0" * 40),
        ("NaN", b"NaN"),
        ("boundary date", b"9999-12-31T23%3A59%3A59Z"),
    ):
        yield label, b"&".join(n.encode() + b"=" + value for n in names), form
    yield "json content type", b'{"a": 1}', "application/json"
    yield "no content type", b"a=1", ""


def multipart_bodies(fields: list[str]) -> Iterator[tuple[str, bytes, str]]:
    boundary = "fuzzboundary"
    kind = f"multipart/form-data; boundary={boundary}"

    def part(name: str, value: bytes) -> bytes:
        return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"

    names = fields or ["x"]
    for label, value in (
        ("invalid utf-8", b"\xff\xfe"),
        ("NUL", b"a\x00b"),
        ("overlong", "长".encode() * 50_000),
        ("boundary date", b"9999-12-31"),
        ("huge number", b"1" + b"0" * 40),
    ):
        yield label, b"".join(part(n, value) for n in names) + f"--{boundary}--\r\n".encode(), kind
    charset = f'--{boundary}\r\nContent-Disposition: form-data; name="{names[0]}"\r\n'
    charset += "Content-Type: text/plain; charset=no-such-charset\r\n\r\nx\r\n"
    yield "unknown charset", charset.encode() + f"--{boundary}--\r\n".encode(), kind
    yield "no boundary", b"x", "multipart/form-data"
    yield "garbage", b"\xff" * 100, kind
    yield "unterminated", part(names[0], b"x"), kind
    yield "json content type", b'{"a": 1}', "application/json"


def caller(handler: Any) -> Role | None:
    action = ACTIONS.get(handler.opt.get("action", ""))
    if action is None or action.roles is None:
        return None
    return next(role for role in LOGINS if role in action.roles)


def _operation(path: str, method: str) -> dict[str, Any]:
    return (DOCUMENT["paths"].get(re.sub(r"{(\w+):[^}]+}", r"{\1}", path)) or {}).get(method.lower()) or {}


def _concrete(path: str, override: dict[str, str] | None = None) -> str:
    values = {"uuid": str(uuid.uuid4()), "int": "1", "str": "x", "path": "x"}

    def one(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        return (override or {}).get(name, values.get(kind, "x"))

    return re.sub(r"{(\w+):(\w+)}", one, path)


def http_calls() -> Iterator[Call]:
    for route in APP.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method == "OPTIONS":
                    continue
                role = None if SESSION_ENDING.search(route.path) else caller(handler)
                operation = _operation(route.path, method)
                where = f"{method} {route.path}"
                for name in re.findall(r"{(\w+):\w+}", route.path):
                    for value in PATH_VALUES:
                        yield Call(
                            f"{where} path {name}={value[:20]}", method, _concrete(route.path, {name: value}), role
                        )
                base = _concrete(route.path)
                parameters = operation.get("parameters", [])
                for parameter in (p for p in parameters if p["in"] == "query"):
                    for value in PARAMETER_VALUES:
                        yield Call(
                            f"{where} query {parameter['name']}={value[:20]}",
                            method,
                            f"{base}?{parameter['name']}={value}",
                            role,
                        )
                for parameter in (p for p in parameters if p["in"] == "header"):
                    for value in HEADER_VALUES:
                        yield Call(
                            f"{where} header {parameter['name']}={value[:20]!r}",
                            method,
                            base,
                            role,
                            {parameter["name"]: value},
                        )
                if not parameters and method == "GET":
                    # routes the document does not describe (the PWA's files, /schema): junk queries
                    for value in PARAMETER_VALUES[:6]:
                        yield Call(f"{where} query junk={value[:20]}", method, f"{base}?junk={value}", role)
                if method == "GET":
                    yield Call(f"HEAD {route.path}", "HEAD", base, role)
                    continue
                content = (operation.get("requestBody") or {}).get("content") or {}
                if "application/json" in content:
                    bodies = json_bodies(content["application/json"]["schema"])
                elif "application/x-www-form-urlencoded" in content:
                    schema = _resolve(content["application/x-www-form-urlencoded"]["schema"])
                    bodies = form_bodies(list(schema.get("properties", {})))
                elif "multipart/form-data" in content:
                    schema = _resolve(content["multipart/form-data"]["schema"])
                    bodies = multipart_bodies(list(schema.get("properties", {})))
                elif "data" in handler.parsed_fn_signature.parameters:
                    bodies = json_bodies({})
                else:
                    bodies = iter([("unexpected body", b"\xff" * 10, "application/json")])
                for label, body, kind in bodies:
                    headers = {"Content-Type": kind} if kind else {}
                    yield Call(f"{where} body {label}", method, base, role, headers, body)


# ----------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=True) as url,
        live_server(
            url,
            tmp_path_factory.mktemp("malformed"),
            OTP_MAX_PER_CLIENT_PER_HOUR="1000000",
            LOGIN_MAX_FAILURES_PER_HOUR="1000000",
            LOG_LEVEL="INFO",
        ) as srv,
    ):
        yield srv


@pytest.fixture(scope="module")
def tokens(server) -> dict[Role, str]:
    out = {}
    for role, login in LOGINS.items():
        r = httpx.post(server.base_url + "/api/auth/login", json={"login": login, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        out[role] = r.json()["token"]
    return out


def _problem(call: Call, response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"{call.label}: {response.status_code} {response.text[:200]}"
    if call.method == "HEAD":
        if response.status_code == 405 or response.content:
            return f"{call.label}: HEAD answered {response.status_code} with {len(response.content)} bytes"
        return None
    if response.status_code >= 400:
        if call.path.startswith("/schema/") and response.status_code == 404:
            return None  # the API documentation's renderer answers its own HTML page
        if not response.headers.get("content-type", "").startswith("application/json"):
            return f"{call.label}: {response.status_code} as {response.headers.get('content-type')}"
        body = response.json()
        shaped = (isinstance(body, dict) and {"code", "detail", "detail_zh"} <= set(body)) or (
            isinstance(body, list) and body and {"code", "description"} <= set(body[0])  # Open311's errors
        )
        if not shaped:
            return f"{call.label}: {response.status_code} without the error shape: {response.text[:200]}"
    return None


def test_every_route_refuses_malformed_input_cleanly(server, tokens):
    logging.getLogger("httpx").setLevel(logging.WARNING)
    calls = list(http_calls())
    assert len({c.path.split("?")[0] for c in calls}) > 100  # the route list really was walked
    problems: list[str] = []

    async def run() -> None:
        limit = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:

            async def one(call: Call) -> None:
                headers = dict(call.headers)
                if call.role is not None:
                    headers["Authorization"] = f"Bearer {tokens[call.role]}"
                async with limit:
                    raw = [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
                    request = http.build_request(call.method, call.path, headers=raw, content=call.content)
                    response = await http.send(request)
                if (problem := _problem(call, response)) is not None:
                    problems.append(problem)

            await asyncio.gather(*(one(c) for c in calls))

    asyncio.run(run())
    log = server.log()
    assert not problems, f"{len(problems)} of {len(calls)} requests:\n" + "\n".join(sorted(problems)[:40])
    assert "Traceback" not in log, log[log.index("Traceback") - 2000 : log.index("Traceback") + 3000]
    assert "Exception in ASGI application" not in log


def test_every_websocket_parameter_and_message_is_refused_cleanly(server, tokens):
    routes = [r for r in APP.routes if isinstance(r, WebSocketRoute)]
    assert routes
    base = server.base_url.replace("http://", "ws://")

    async def ticket() -> str:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            r = await http.post("/api/realtime/ticket", headers={"Authorization": f"Bearer {tokens[Role.PARENT]}"})
            assert r.status_code == 201, r.text
            return r.json()["ticket"]

    async def attempt(url: str, message: str | bytes | None = None) -> int | None:
        """The close code (None if the socket stayed open and well), or 403 for a refused handshake."""
        try:
            async with connect(url, origin=ORIGIN, open_timeout=10, max_size=2**20) as ws:
                if message is not None:
                    await ws.send(message)
                try:
                    while True:
                        reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=2))
                        if message is None or reply.get("type") == "pong":
                            return None
                except TimeoutError:
                    return None
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006
        except InvalidStatus as refused:
            return refused.response.status_code

    async def run() -> list[str]:
        problems = []
        for route in routes:
            handler = route.route_handler
            names = [n for n in handler.parsed_fn_signature.parameters if n not in ("socket",)]
            for name in [*names, "ticket"]:
                for value in PARAMETER_VALUES:
                    query = f"ticket={await ticket()}&" if name != "ticket" else ""
                    code = await attempt(f"{base}{route.path}?{query}{name}={value}")
                    if code not in (None, 1008, 403):
                        problems.append(f"{route.path} {name}={value[:20]}: closed {code}")
            for message in ("[]", "[" * 2000, "{", "null", '{"type": 1}', "\x00", b"\xff", "长" * 3000):
                code = await attempt(f"{base}{route.path}?ticket={await ticket()}", message)
                if code not in (1008, 1003, 1009):
                    problems.append(f"{route.path} message {message[:10]!r}: closed {code}")
        return problems

    problems = asyncio.run(run())
    assert not problems, "\n".join(problems)
    log = server.log()
    assert "Traceback" not in log and "Exception in ASGI application" not in log
