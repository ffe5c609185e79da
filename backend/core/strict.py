"""Request bodies are validated strictly, exactly as the OpenAPI document describes them.

Litestar 2.x converts handler arguments in msgspec's lax mode (needed for query strings), which
would also let a JSON body say ``0`` for ``false`` or ``"12"`` for ``12``. This ``before_request``
hook checks every JSON body once more, strictly, against the handler's ``data`` type, so what the
schema rejects the server rejects too (400 naming the field). One allowance keeps the two in step
the other way: JSON Schema counts ``15.0`` as an integer, so integral numbers are accepted where an
integer is expected.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from backend.core.inputs import CHECKED_JSON, check_dates, checked_json

_TYPES: dict[int, Any] = {}
_NO_BODY = object()
_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def _body_type(request: Request[Any, Any, Any]) -> Any:
    handler = request.scope["route_handler"]
    key = id(handler)
    if key not in _TYPES:
        field = handler.parsed_fn_signature.parameters.get("data")
        _TYPES[key] = _NO_BODY if field is None else field.annotation
    return _TYPES[key]


def _integral(value: Any) -> Any:
    """15.0 -> 15, as JSON Schema's "integer" allows; everything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    body_type = _body_type(request)
    if body_type is _NO_BODY:
        return
    body = await request.body()
    if not body:
        return  # Litestar reports the missing body itself
    # The input gate (backend.core.inputs) has decoded and checked the body already; a body it
    # did not see (a route without the gate) is checked the same way here.
    value = request.scope.get(CHECKED_JSON, _NO_BODY)  # type: ignore[call-overload]
    if value is _NO_BODY:
        value = checked_json(body)
    try:
        converted = msgspec.convert(_integral(value), body_type, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        key = (match.group("path") if match else "") or "data"
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": _PATH.sub("", message), "key": key, "source": "body"}],
        ) from exc
    check_dates(converted)
