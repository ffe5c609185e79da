"""Application-layer encryption of children's personal information (PIPL: under-14s are sensitive).

A child's name and birth date are stored as AES-256-GCM ciphertexts; the keys live outside the
database (``CHILD_DATA_KEYS``). A stored value is::

    version (1 byte, 0x01) | key id (1 byte) | nonce (12 bytes) | ciphertext + tag (16 bytes)

The associated data is the version and key-id bytes plus the column's label (``children.name``), so
a ciphertext copied into another column, or a header changed to point at another key, fails to
decrypt. Plaintexts are padded to a multiple of ``PAD_BLOCK`` bytes so the length of a name leaks
(almost) nothing.

Key rotation: ``CHILD_DATA_KEYS`` lists ``keyid:base64-of-32-bytes`` entries; the first encrypts,
every listed key decrypts. ``python -m backend rekey-children`` rewrites older rows with the first key.
In development and tests (when the variable is unset) one key, id 0, is derived from ``SECRET_KEY``.

The columns are SQLAlchemy ``TypeDecorator``s, so ORM and Core selects keep returning ``str`` and
``date``; comparing or ordering them in SQL is refused (the ciphertexts are randomised): filter by id
and sort in Python.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator

from backend.core.childkeys import ChildDataKeyError, parse_child_data_keys

if TYPE_CHECKING:
    from backend.core.config import Settings

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 2
MIN_CIPHERTEXT_BYTES = HEADER_BYTES + NONCE_BYTES + TAG_BYTES
PAD_BLOCK = 64
DERIVED_KEY_ID = 0  # the development/test key derived from SECRET_KEY
_DERIVE_LABEL = b"daqing/child-data-key/v1"


class ChildDataDecryptError(RuntimeError):
    """A stored value does not decrypt with the configured key of its id (wrong key or tampering)."""


def _pad(data: bytes) -> bytes:
    # 0x80 then zeros up to the block (ISO/IEC 7816-4): unambiguous for any plaintext.
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % PAD_BLOCK)


def _unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise ChildDataDecryptError("bad padding in a decrypted child value")
    return end[:-1]


def normalise_child_name(name: str) -> str:
    """What counts as the same name: Unicode NFKC, case-folded, without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


class ChildDataKeys:
    """A keyring: key id -> 32-byte AES key; ``primary`` encrypts, every key decrypts. ``index_key``
    (optional) keys the blind index of a child (``fingerprint``)."""

    def __init__(self, keys: dict[int, bytes], primary: int, *, index_key: bytes | None = None) -> None:
        if primary not in keys:
            raise ChildDataKeyError("the primary key id must be one of the keys")
        for key_id, key in keys.items():
            if not 0 <= key_id <= 255:
                raise ChildDataKeyError(f"key id {key_id} must be 0-255")
            if len(key) != 32:
                raise ChildDataKeyError(f"key {key_id} must be 32 bytes (AES-256), got {len(key)}")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.primary = primary
        self._index_key = index_key

    def __repr__(self) -> str:  # never the keys themselves
        return f"ChildDataKeys(ids={sorted(self._aead)}, primary={self.primary})"

    @property
    def key_ids(self) -> list[int]:
        return sorted(self._aead)

    @classmethod
    def parse(cls, raw: str) -> ChildDataKeys:
        """``"3:base64,2:base64"``: ids 1-255 (0 is the derived development key), first one primary."""
        keys, primary = parse_child_data_keys(raw)
        return cls(keys, primary)

    @classmethod
    def derived(cls, secret_key: str) -> ChildDataKeys:
        key = hmac.new(secret_key.encode(), _DERIVE_LABEL, hashlib.sha256).digest()
        return cls({DERIVED_KEY_ID: key}, DERIVED_KEY_ID)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChildDataKeys:
        if settings.child_data_keys:
            keys = cls.parse(settings.child_data_keys)
        elif settings.is_production:
            raise ChildDataKeyError("CHILD_DATA_KEYS must be set in production")
        else:
            keys = cls.derived(settings.secret_key)
        keys._index_key = index_key(settings)
        return keys

    def fingerprint(self, name: str, birth_date: dt.date) -> bytes:
        """The blind index of a child: HMAC-SHA256 of its normalised name and birth date under the index
        key (not the encryption keys, so it survives their rotation). Equal children, equal fingerprints;
        without the key it reveals nothing (though, like any such index, it shows which rows are equal)."""
        if self._index_key is None:
            raise ChildDataKeyError("this keyring has no index key (build it with ChildDataKeys.from_settings)")
        message = b"child\x00" + normalise_child_name(name).encode() + b"\x00" + birth_date.isoformat().encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()

    @staticmethod
    def new_key_entry(key_id: int) -> str:
        """A fresh ``id:base64`` entry for CHILD_DATA_KEYS."""
        return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"

    def encrypt(self, label: str, plaintext: bytes) -> bytes:
        header = bytes((FORMAT_VERSION, self.primary))
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._aead[self.primary].encrypt(nonce, _pad(plaintext), header + label.encode())

    @staticmethod
    def key_id_of(blob: bytes) -> int:
        if len(blob) < MIN_CIPHERTEXT_BYTES or blob[0] != FORMAT_VERSION:
            raise ChildDataDecryptError("not an encrypted child value (unknown format)")
        return blob[1]

    def decrypt(self, label: str, blob: bytes) -> bytes:
        key_id = self.key_id_of(blob)
        aead = self._aead.get(key_id)
        if aead is None:
            raise ChildDataKeyError(
                f"{label} was encrypted with key id {key_id}, which CHILD_DATA_KEYS does not list "
                f"(configured: {self.key_ids})"
            )
        header, nonce, body = blob[:HEADER_BYTES], blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES], blob[14:]
        try:
            return _unpad(aead.decrypt(nonce, body, header + label.encode()))
        except InvalidTag as exc:
            raise ChildDataDecryptError(
                f"{label} does not decrypt with key id {key_id}: wrong key in CHILD_DATA_KEYS, or altered data"
            ) from exc


_INDEX_LABEL = b"daqing/child-fingerprint-key/v1"


def index_key(settings: Settings) -> bytes:
    """The blind-index key: derived, under its own label, from ``ID_HASH_KEY`` (required in production and
    never changed, like this index) or, in development and tests, from ``SECRET_KEY``."""
    if settings.id_hash_key:
        base = settings.id_hash_key
    elif settings.is_production:
        raise ChildDataKeyError("ID_HASH_KEY must be set in production (it keys children's blind index)")
    else:
        base = settings.secret_key
    return hmac.new(base.encode(), _INDEX_LABEL, hashlib.sha256).digest()


# The process's keyring. ``install`` sets it (the app, the CLI, the test harness); left unset it is
# built from the environment on first use, like the app's own settings.
_installed: ChildDataKeys | None = None


def install(keys: ChildDataKeys) -> None:
    global _installed
    _installed = keys


def current() -> ChildDataKeys:
    global _installed
    if _installed is None:
        from backend.core.config import Settings

        _installed = ChildDataKeys.from_settings(Settings.from_env())
    return _installed


@contextlib.contextmanager
def using(keys: ChildDataKeys) -> Iterator[ChildDataKeys]:
    """Temporarily use another keyring (tests of rotation and wrong keys)."""
    global _installed
    previous = _installed
    _installed = keys
    try:
        yield keys
    finally:
        _installed = previous


class _Opaque(TypeDecorator[Any]):
    """A value stored encrypted: selects decrypt it, binds encrypt it, SQL comparisons are refused."""

    impl = LargeBinary
    cache_ok = True

    class comparator_factory(LargeBinary.Comparator):
        # Comparing with a value or sorting would silently match/sort ciphertexts. (Column-to-column
        # comparisons stay allowed: SQLAlchemy itself compares column objects internally.)
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in (operators.asc_op, operators.desc_op) or any(not isinstance(o, ClauseElement) for o in other):
                raise TypeError(
                    f"{self.expr} is encrypted: it cannot be compared with a value, filtered or ordered in SQL "
                    f"({getattr(op, '__name__', op)}); filter by id and sort in Python"
                )
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            if not isinstance(other, ClauseElement):
                return self.operate(op, other)
            return super().reverse_operate(op, other, **kwargs)

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return current().encrypt(self.label, self.encode(value))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self.decode(current().decrypt(self.label, bytes(value)))

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        raise TypeError(f"{self.label} is encrypted: it is never rendered as a literal")


class EncryptedText(_Opaque):
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"{self.label} takes a str")
        return value.encode()

    def decode(self, data: bytes) -> str:
        return data.decode()


class EncryptedDate(_Opaque):
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise TypeError(f"{self.label} takes a date")
        return value.isoformat().encode()

    def decode(self, data: bytes) -> dt.date:
        return dt.date.fromisoformat(data.decode())
