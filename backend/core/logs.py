"""Logs: one line per event, JSON in production (``LOG_FORMAT``), each carrying the request's id.

* ``X-Request-ID``: a request may bring its own id (1–64 of ``A–Z a–z 0–9 . _ -``; anything else is
  replaced); otherwise one is made. It is returned in the response's ``X-Request-ID`` and stamped on
  every log record written while the request is handled (``request_id``), by the app, the database
  layer or uvicorn.
* ``LOG_FORMAT=json`` (the default in production): ``{"ts", "level", "logger", "msg", "request_id",
  ...}``, exceptions inside the line (``exc``). ``text`` (the default elsewhere): the classic line.
* One ``request`` line per HTTP answer at INFO: method, route *template*, status, duration. Never the
  concrete path or query string (they can carry ids or codes), never a body, never a header's value.

Personal data stays out of logs (PIPL): phone numbers are masked where they are logged at all (the
development SMS sender), names, birth dates, tracking codes and tokens are never logged.
``tests/test_logs_privacy.py`` runs a whole journey on a real server and searches its log.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_LOWER = REQUEST_ID_HEADER.lower().encode()
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("backend.request")

# Attributes every LogRecord has: anything else on a record was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's terminal-coloured copy of the message
}


def current_request_id() -> str | None:
    return _request_id.get()


def accepted_request_id(raw: str | None) -> str:
    """The client's id when it is well formed, else a new one."""
    if raw and _VALID_ID.match(raw):
        return raw
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line (non-ASCII kept readable; newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config`` formatter entry for the format."""
    if log_format == "json":
        return {"()": "backend.core.logs.JsonFormatter"}
    return {"format": TEXT_FORMAT}


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


_factory_installed = False


def install_record_factory() -> None:
    """Stamp ``request_id`` on every record when it is created (in the request's own task; the queue
    listener that writes it out runs in another thread and could not see the context)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def configure_basic(level: str, log_format: str) -> None:
    """Logging of the command line (and of anything before the app configures its own)."""
    install_record_factory()
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def uvicorn_log_config(level: str, log_format: str) -> dict[str, Any]:
    """uvicorn's own loggers in the same format (its access log stays off: ``backend.request`` is it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter_config(log_format)},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        },
    }


def install(app: Any) -> None:
    """Wrap the app's ASGI handler (outermost: every answer gets its id, matched or not)."""
    app.asgi_handler = RequestIdMiddleware(app.asgi_handler)


class RequestIdMiddleware:
    """ASGI middleware (outermost, HTTP and WebSocket): the request id in the context and the response,
    and the ``request`` log line."""

    def __init__(self, app: Any) -> None:
        self.app = app
        install_record_factory()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                raw = value.decode("latin-1")
                break
        request_id = accepted_request_id(raw)
        token = _request_id.set(request_id)
        start = time.perf_counter()
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != _REQUEST_ID_LOWER]
                headers.append((_REQUEST_ID_LOWER, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if scope["type"] == "http" and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope.get("method"),
                    scope.get("path_template") or "unmatched",
                    status or 500,
                    extra={
                        "event": "request",
                        "method": scope.get("method"),
                        "route": scope.get("path_template") or "unmatched",
                        "status": status or 500,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                    },
                )
            _request_id.reset(token)
