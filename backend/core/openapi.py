"""Make the OpenAPI document say exactly what the server enforces.

Litestar 2.x's generator loses some constraints: bounds equal to zero on optional fields and
parameters (``ge=0`` is dropped as falsy), constraints on list items, and ``forbid_unknown_fields``.
Request and response bodies are validated by msgspec, whose own JSON Schema generator is exact, so
the component schemas of our Structs are replaced by msgspec's; zero bounds lost from parameters
are restored from the handlers' declarations. ``tests/test_api_fuzz.py`` holds the server to the
result with schemathesis.

Header, path and cookie parameters lose the ``null`` alternative Litestar gives optional ones: absent
is ``required: false``, and the text ``null`` is not read as absent there (it is in a query).

Also here: a fix for the ``Allow`` header of automatic OPTIONS answers (litestar#4169).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

from backend.core.schemas import Input, Output

_SPECIAL_KEYS = {"not": "schema_not", "if": "schema_if", "else": "schema_else"}


def _snake(key: str) -> str:
    return _SPECIAL_KEYS.get(key) or re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _to_spec(value: Any) -> Any:
    """JSON Schema (a dict from msgspec) to Litestar's spec objects."""
    if isinstance(value, list):
        return [_to_spec(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$ref" in value:
        return Reference(ref=value["$ref"])
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        name = _snake(key)
        if name in ("properties", "pattern_properties", "dependent_schemas"):
            kwargs[name] = {k: _to_spec(v) for k, v in item.items()}
        elif name in ("enum", "required", "examples", "default", "const"):
            kwargs[name] = item
        else:
            kwargs[name] = _to_spec(item)
    return Schema(**kwargs)


def _our_structs() -> dict[str, type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    stack: list[type] = [Input, Output]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            stack.append(sub)
    from backend.core.errors import ErrorBody

    found["ErrorBody"] = ErrorBody
    return found


def _exact_struct_components(openapi: OpenAPI) -> None:
    schemas = openapi.components.schemas if openapi.components else None
    if not schemas:
        return
    structs = _our_structs()
    used = [structs[name] for name in schemas if name in structs]
    _, components = msgspec.json.schema_components(used, ref_template="#/components/schemas/{name}")
    for name, json_schema in components.items():
        schemas[name] = _to_spec(json_schema)


def _untyped(path: str) -> str:
    """'/a/{id:uuid}' -> '/a/{id}', as OpenAPI and the ASGI scope's path_template write it."""
    return re.sub(r"{(\w+):[^}]+}", r"{\1}", path)


_BOUNDS = (("ge", "minimum"), ("gt", "exclusive_minimum"), ("le", "maximum"), ("lt", "exclusive_maximum"))


def _restore_zero_bounds(app: Litestar, openapi: OpenAPI) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or openapi.paths is None:
            continue
        path_item = openapi.paths.get(_untyped(route.path))
        if path_item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                for parameter in getattr(operation, "parameters", None) or []:
                    field = handler.parsed_fn_signature.parameters.get(parameter.name)
                    kwarg = getattr(field, "kwarg_definition", None)
                    if kwarg is None or not isinstance(parameter.schema, Schema):
                        continue
                    for attr, key in _BOUNDS:
                        bound = getattr(kwarg, attr, None)
                        if bound is not None and getattr(parameter.schema, key) is None:
                            setattr(parameter.schema, key, bound)


def _is_null(schema: Any) -> bool:
    return isinstance(schema, Schema) and schema.type == OpenAPIType.NULL


def _parameters_without_null(openapi: OpenAPI) -> None:
    """A header, path or cookie parameter is present (a string) or absent (``required: false``); it
    is never null. Litestar documents ``str | None`` parameters as ``oneOf [string, null]``, and a
    client taking that at its word sends the text ``null`` (a header ``Idempotency-Key: null``),
    which the server rightly refuses. Query parameters keep it: Litestar reads ``?unit=null`` as
    absent, so there the document is right."""
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(path_item, method, None)
            for parameter in getattr(operation, "parameters", None) or []:
                schema = parameter.schema
                if not isinstance(schema, Schema) or parameter.param_in == "query":
                    continue
                if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
                    kept_types = [t for t in schema.type if t != OpenAPIType.NULL]
                    schema.type = kept_types[0] if len(kept_types) == 1 else kept_types
                if schema.enum and None in schema.enum:
                    schema.enum = [v for v in schema.enum if v is not None]
                for attr in ("one_of", "any_of"):
                    options = getattr(schema, attr)
                    if not options or not any(_is_null(o) for o in options):
                        continue
                    kept = [o for o in options if not _is_null(o)]
                    if len(kept) == 1 and isinstance(kept[0], Schema):
                        setattr(schema, attr, None)
                        for field in dataclasses.fields(kept[0]):
                            value = getattr(kept[0], field.name)
                            if value is not None and getattr(schema, field.name) is None:
                                setattr(schema, field.name, value)
                    else:
                        setattr(schema, attr, kept)


def multipart_form(
    fields: type[msgspec.Struct], files: str, max_files: int, *, text_forms: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Route ``opt`` for a multipart form whose text parts are checked as ``fields`` (by the handler)
    and whose ``files`` parts are binary: the document then states those exact rules. ``text_forms``:
    media types the route also takes for the fields alone (no files)."""
    return {"multipart_form": (fields, files, max_files, text_forms)}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A multipart part is present or absent; it is never JSON null."""
    options = schema.get("anyOf")
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**kept[0], **rest}
        return {**schema, "anyOf": kept}
    return schema


def _multipart_forms(app: Litestar, openapi: OpenAPI) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or openapi.paths is None:
            continue
        for handler in route.route_handlers:
            spec = handler.opt.get("multipart_form")
            path_item = openapi.paths.get(_untyped(route.path))
            if spec is None or path_item is None:
                continue
            fields, files, max_files, text_forms = spec
            _, components = msgspec.json.schema_components([fields], ref_template="#/components/schemas/{name}")
            body = components[fields.__name__]
            properties = {name: _without_null(prop) for name, prop in body["properties"].items()}
            text_only = {**body, "properties": dict(properties), "additionalProperties": False}
            properties[files] = {
                "type": "array",
                "maxItems": max_files,
                "items": {"type": "string", "format": "binary"},
            }
            form = {**body, "properties": properties, "additionalProperties": False}
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if operation is not None and operation.request_body is not None:
                    content = operation.request_body.content or {}
                    for media in content.values():
                        media.schema = _to_spec(form)
                    for media_type in text_forms:
                        content[media_type] = OpenAPIMediaType(schema=_to_spec(text_only))


def file_download(*media_types: str) -> dict[str, Any]:
    """Route ``opt`` for a download that answers one of several file types (an xlsx workbook or a CSV
    file, as asked): its 200 answer then documents each of them as binary content."""
    return {"file_download": media_types}


def _file_downloads(app: Litestar, openapi: OpenAPI) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or openapi.paths is None:
            continue
        path_item = openapi.paths.get(_untyped(route.path))
        for handler in route.route_handlers:
            media_types = handler.opt.get("file_download")
            if not media_types or path_item is None:
                continue
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                ok = (operation.responses or {}).get("200") if operation is not None else None
                if isinstance(ok, OpenAPIResponse):
                    binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                    ok.content = {media_type: OpenAPIMediaType(schema=binary) for media_type in media_types}


_GATE_ANSWERS = {
    "400": "Malformed input: not UTF-8, NUL or control characters, malformed JSON / 请求格式错误",
    "403": "Cross-site request (Origin not allowed) / 拒绝来自其他网站的请求",
    "415": "Body not sent as application/json / 不支持的内容类型",
    "422": "NUL or control characters (bad_text), a number beyond 64 bits or a date outside 1900–2199"
    " (out_of_range) / 参数取值超出范围或包含控制字符",
}


def _gate_responses(app: Litestar, openapi: OpenAPI) -> None:
    """The input gate (``backend.core.inputs``) may answer before any handler: say so where it can."""
    from backend.core.inputs import UNSAFE_METHODS, plan_for

    error = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorBody"))
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or openapi.paths is None:
            continue
        path_item = openapi.paths.get(_untyped(route.path))
        if path_item is None:
            continue
        for handler in route.route_handlers:
            plan = plan_for(handler)
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if operation is None or operation.responses is None:
                    continue
                statuses = []
                if operation.parameters or operation.request_body:
                    statuses += ["400", "422"]
                if method in UNSAFE_METHODS:
                    statuses.append("403")
                if plan.body is not None and plan.body.value == "application/json":
                    statuses += ["415", "422"]
                if plan.ints or plan.floats or plan.dates or ":int}" in route.path:
                    statuses.append("422")
                for status in statuses:
                    if status not in operation.responses:
                        operation.responses[status] = OpenAPIResponse(
                            description=_GATE_ANSWERS[status], content={"application/json": error}
                        )


def finalize_openapi(app: Litestar) -> None:
    """Build the document once, now, and correct it before anyone reads it."""
    openapi = app.openapi_schema  # built once by the OpenAPI plugin; the same object is served
    _exact_struct_components(openapi)
    _restore_zero_bounds(app, openapi)
    _parameters_without_null(openapi)
    _multipart_forms(app, openapi)
    _file_downloads(app, openapi)
    _gate_responses(app, openapi)
    _form_text_without_controls(openapi)


# Form text (field values and names) never holds control characters: the input gate refuses them
# (core/inputs.py). Say so on the Open311 form, whose optional fields lose a pattern set on the type.
_NO_CONTROL = r"^[^\x00-\x08\x0e-\x1f\x7f]*$"


def _form_text_without_controls(openapi: OpenAPI) -> None:
    schemas = openapi.components.schemas if openapi.components and openapi.components.schemas else {}
    form = schemas.get("Open311Form")
    if not isinstance(form, Schema) or not form.properties:
        return
    for prop in form.properties.values():
        for alternative in [prop, *(getattr(prop, "one_of", None) or [])]:
            if isinstance(alternative, Schema) and alternative.type == OpenAPIType.STRING:
                alternative.pattern = _NO_CONTROL
    form.property_names = Schema(type=OpenAPIType.STRING, pattern=_NO_CONTROL)
    form.additional_properties = Schema(type=OpenAPIType.STRING, pattern=_NO_CONTROL)  # attribute[…]: ignored


class AllowHeaderMiddleware:
    """Litestar 2.x's automatic OPTIONS answer lists only the first handler's method when several
    handlers share a path (litestar#4169, fixed in Litestar 3). Put the route's real methods in ``Allow``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._methods: dict[str, str] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        if self._methods is None:
            self._methods = {
                _untyped(r.path): ", ".join(sorted(r.methods)) for r in scope["app"].routes if hasattr(r, "methods")
            }
        allow = self._methods.get(scope.get("path_template", ""))

        async def send_with_allow(message: Any) -> None:
            if allow and message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                if len(headers) != len(message.get("headers", [])):
                    message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_allow)
