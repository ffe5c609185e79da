"""Shared msgspec building blocks for request and response schemas."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are an error, not silently dropped."""


class Output(msgspec.Struct, kw_only=True):
    """Base for response bodies."""


Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS-84 latitude")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS-84 longitude")]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
