"""Cryptographic building blocks: passwords, opaque tokens, keyed hashes, one-time codes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 "low memory") defaults
# Verified against when an account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

SESSION_TOKEN_BYTES = 32


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check: an absent hash still costs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def check_password(password_hash: str | None, password: str) -> bool:
    """``verify_password`` on a worker thread: argon2 takes tens of milliseconds of CPU by design, and
    a burst of sign-ins must not stall every other request on the event loop."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_session_token() -> str:
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)


def token_digest(token: str) -> bytes:
    """Sessions are stored by digest, so a database leak does not leak usable tokens."""
    return hashlib.sha256(token.encode()).digest()


def keyed_digest(secret_key: str, purpose: str, value: str) -> bytes:
    """HMAC-SHA256 of ``value``, domain-separated by ``purpose``."""
    return hmac.new(secret_key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def csrf_token(secret_key: str, session_id: str) -> str:
    """The CSRF token of a session: a keyed hash of its id (signed double-submit pattern)."""
    return keyed_digest(secret_key, "csrf", session_id).hex()


def new_otp_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def otp_digest(secret_key: str, phone: str, code: str) -> bytes:
    return keyed_digest(secret_key, "otp", f"{phone}:{code}")


def constant_time_equal(a: bytes | str, b: bytes | str) -> bool:
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    return hmac.compare_digest(a, b)
