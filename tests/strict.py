"""Strict response checking: a body must decode into its documented Struct with no extra keys."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


def _same_shape(raw: Any, typed: Any, path: str = "$") -> None:
    if isinstance(raw, dict):
        assert isinstance(typed, dict), path
        assert set(raw) == set(typed), f"{path}: keys {sorted(set(raw) ^ set(typed))} differ from the schema"
        for key in raw:
            _same_shape(raw[key], typed[key], f"{path}.{key}")
    elif isinstance(raw, list):
        assert isinstance(typed, list) and len(raw) == len(typed), path
        for n, (a, b) in enumerate(zip(raw, typed, strict=True)):
            _same_shape(a, b, f"{path}[{n}]")


def strict(body: bytes | str, tp: type[T]) -> T:
    """Decode ``body`` into ``tp`` (types, required fields) and check it has exactly the Struct's keys."""
    obj = msgspec.json.decode(body, type=tp)
    _same_shape(msgspec.json.decode(body), msgspec.to_builtins(obj))
    return obj
