"""Shared msgspec building blocks for request and response schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

COORDINATE_DECIMALS = 7  # about 1 cm


def coordinate(value: float) -> float:
    """A latitude or longitude as stored and searched: 7 decimals. Finer values mean nothing, and
    subnormal ones (``5e-324``) make PostgreSQL's ``ll_to_earth`` fail with an underflow."""
    return round(value, COORDINATE_DECIMALS)


class Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are an error, not silently dropped. Coordinates
    (``lat``, ``lng``) are rounded by ``coordinate``."""

    def __post_init__(self) -> None:
        for name in ("lat", "lng"):
            value = getattr(self, name, None)
            if type(value) is float:
                setattr(self, name, coordinate(value))


class Output(msgspec.Struct, kw_only=True):
    """Base for response bodies."""


Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS-84 latitude")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS-84 longitude")]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


# Free text that people type. Markup never gets in: anything a browser could read as the start of a
# tag (``<`` then a letter, ``/``, ``!`` or ``?``) is refused, as are control characters, so stored
# text is safe wherever it is shown (stored XSS is impossible by construction, and the PWA still
# renders it as text). "3 < 5" and "<3" stay fine.
_NO_TAGS = r"<(?![A-Za-z/!?])"
LINE_PATTERN = r"^(?:[^<\x00-\x1f\x7f]|" + _NO_TAGS + r")*$"
PARAGRAPH_PATTERN = r"^(?:[^<\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|" + _NO_TAGS + r")*$"


def line_text(max_length: int, *, min_length: int = 1, description: str | None = None) -> msgspec.Meta:
    """One line of text without markup (titles, names, options)."""
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=LINE_PATTERN,
        description=(description + " " if description else "") + "(no HTML tags, one line)",
    )


def paragraph_text(max_length: int, *, min_length: int = 1, description: str | None = None) -> msgspec.Meta:
    """Multi-line text without markup (bodies, answers, reasons)."""
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=PARAGRAPH_PATTERN,
        description=(description + " " if description else "") + "(no HTML tags)",
    )


# An instant with its offset (RFC 3339, e.g. "2026-12-01T08:00:00+08:00"); a naive time is refused.
Instant = Annotated[dt.datetime, msgspec.Meta(tz=True, description="RFC 3339 date-time with offset")]
