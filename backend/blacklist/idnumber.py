"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation and the keyed hash we store instead.

An ID number is 18 characters: a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit
sequence number and a check character (ISO 7064 MOD 11-2: ``0-9`` or ``X``). We validate all of it
(a lower-case ``x`` is normalised to ``X``) and then keep only:

* ``id_hash``: HMAC-SHA256 under ``ID_HASH_KEY`` — a key that is *not* in the database, so a copy of
  the database alone cannot be brute-forced back into numbers (the space of valid numbers is small);
* the last four characters, shown masked (``**************123X``) so officers and institution admins
  can tell people apart and notice a typo. Four characters of which one is the check digit reveal
  little, and this is the usual masked form in Chinese government systems.

The number itself is never stored, logged or returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from backend.core.config import ConfigError, Settings
from backend.core.errors import RuleViolation

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
_PURPOSE = b"resident-id-number\x00"
_DERIVE_LABEL = b"daqing id-hash key v1"


class InvalidIdNumber(RuleViolation):
    code = "invalid_id_number"
    detail_zh = "身份证号码无效"


def check_char(first17: str) -> str:
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    """The canonical form of a valid ID number, or ``InvalidIdNumber`` (422) naming what is wrong."""
    number = raw.strip().upper()
    if not _SHAPE.match(number):
        raise InvalidIdNumber(
            "An ID number has 18 characters: 17 digits and a final digit or X",
            detail_zh="身份证号码应为18位：前17位为数字，最后一位为数字或X",
        )
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or born > dt.date.today():
        raise InvalidIdNumber(
            "The birth date in the ID number is not a valid date",
            detail_zh="身份证号码中的出生日期无效",
        )
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(
            "The ID number's check digit is wrong (please check for a typo)",
            detail_zh="身份证号码校验位不正确，请检查是否输入有误",
        )
    return number


def hash_key(settings: Settings) -> bytes:
    """``ID_HASH_KEY``; in development and tests a key derived from ``SECRET_KEY`` under its own label."""
    if settings.id_hash_key:
        return settings.id_hash_key.encode()
    if settings.is_production:
        raise ConfigError("ID_HASH_KEY must be set in production")
    return hmac.new(settings.secret_key.encode(), _DERIVE_LABEL, hashlib.sha256).digest()


def id_hash(settings: Settings, number: str) -> bytes:
    """The keyed hash of a *normalised* ID number (32 bytes)."""
    return hmac.new(hash_key(settings), _PURPOSE + number.encode(), hashlib.sha256).digest()


def digest(settings: Settings, raw: str) -> tuple[bytes, str]:
    """Validate ``raw`` and return (id_hash, last 4 characters)."""
    number = normalise(raw)
    return id_hash(settings, number), number[-4:]


def masked(last4: str | None) -> str | None:
    return None if last4 is None else "*" * 14 + last4


def lock_key(h: bytes) -> int:
    """A 32-bit advisory-lock key for one person (collisions only make two people wait for each other)."""
    return int.from_bytes(h[:4], "big", signed=True)


# The first key of the two-key advisory lock: "people on rosters and the blacklist".
LOCK_NAMESPACE = 0x0B1AC0
