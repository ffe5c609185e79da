"""The format of ``CHILD_DATA_KEYS`` and its parsing: read by ``core/config.py`` (refusing a malformed value at
start) and by ``core/crypto.py`` (building the keyring), so that config need not import crypto, which reads
the settings."""

from __future__ import annotations

import base64
import binascii


class ChildDataKeyError(RuntimeError):
    """CHILD_DATA_KEYS is malformed, or a stored value names a key that is not configured."""


def parse_child_data_keys(raw: str) -> tuple[dict[int, bytes], int]:
    """``"3:base64,2:base64"``: the keys by id (1-255; 0 is the derived development key) and the primary
    (the first listed)."""
    keys: dict[int, bytes] = {}
    primary: int | None = None
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        key_id_text, sep, key_text = entry.partition(":")
        if not sep or not key_id_text.strip().isdigit():
            raise ChildDataKeyError("CHILD_DATA_KEYS entries must look like '<id>:<base64 of 32 bytes>'")
        key_id = int(key_id_text)
        if not 1 <= key_id <= 255:
            raise ChildDataKeyError(f"CHILD_DATA_KEYS key ids must be 1-255, got {key_id}")
        if key_id in keys:
            raise ChildDataKeyError(f"CHILD_DATA_KEYS lists key id {key_id} twice")
        try:
            key = base64.b64decode(key_text.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ChildDataKeyError(f"CHILD_DATA_KEYS key {key_id} is not valid base64") from exc
        if len(key) != 32:
            raise ChildDataKeyError(f"CHILD_DATA_KEYS key {key_id} must decode to 32 bytes, got {len(key)}")
        keys[key_id] = key
        primary = key_id if primary is None else primary
    if primary is None:
        raise ChildDataKeyError("CHILD_DATA_KEYS lists no key")
    return keys, primary
