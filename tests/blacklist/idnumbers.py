"""Fictional resident ID numbers with valid check digits, for tests."""

from __future__ import annotations

import itertools

from backend.blacklist.idnumber import check_char

_seq = itertools.count(100)


def id_number(first17: str | None = None) -> str:
    """A valid 18-character number (a fresh one each call unless ``first17`` is given)."""
    if first17 is None:
        first17 = f"23060219900101{next(_seq) % 1000:03d}"
    return first17 + check_char(first17)


def with_wrong_check(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:17] + wrong
