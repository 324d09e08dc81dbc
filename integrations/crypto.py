"""Authenticated encryption of secrets at rest (AES-256-GCM).

Keys come from `settings.FIELD_ENCRYPTION_KEYS`: urlsafe-base64 32-byte keys,
newest first. The newest key encrypts; every key decrypts. A stored value is
`v1:<key id>:<base64(nonce + ciphertext + tag)>`: the key id says which key to
use, and the associated data binds the value to its table, row and field, so a
ciphertext copied into another row or field does not decrypt.
"""

import base64
import hashlib
import os
import re
from collections.abc import Sequence
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "v1"


class DecryptionError(Exception):
    """A stored secret could not be decrypted (missing key, wrong key, tampered or moved)."""


class MissingKeyError(DecryptionError):
    """No usable encryption key is configured."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


# urlsafe base64 of 32 bytes: 43 characters of the urlsafe alphabet, then one "=".
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}=?")


def _decode_key(text: str) -> bytes | None:
    """Return the 32 bytes of a key, or None when `text` is not urlsafe base64 of 32 bytes."""
    if not KEY_PATTERN.fullmatch(text):
        return None
    try:
        key = base64.urlsafe_b64decode(text.rstrip("=") + "=")
    except ValueError:
        return None
    return key if len(key) == 32 else None


def key_problems(raw: Sequence[str]) -> list[str]:
    """Say which keys (by position, never by value) are not urlsafe base64 of 32 bytes."""
    return [
        f"Key {position} of FIELD_ENCRYPTION_KEYS is not urlsafe base64 of 32 bytes."
        for position, text in enumerate(raw, start=1)
        if _decode_key(text) is None
    ]


def key_id_of(text: str) -> str | None:
    """Return the id of a key given as text (None when malformed)."""
    key = _decode_key(text)
    return key_id(key) if key is not None else None


@lru_cache(maxsize=8)
def _parse_keys(raw: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for text in raw:
        key = _decode_key(text)
        if key is None:
            raise MissingKeyError(
                "FIELD_ENCRYPTION_KEYS holds a key that is not urlsafe base64 of 32 bytes."
            )
        keys.append((key_id(key), key))
    return tuple(keys)


def _keys() -> tuple[tuple[str, bytes], ...]:
    keys = _parse_keys(tuple(settings.FIELD_ENCRYPTION_KEYS))
    if not keys:
        raise MissingKeyError("FIELD_ENCRYPTION_KEYS is not set: secrets cannot be used.")
    return keys


def current_key_id() -> str:
    return _keys()[0][0]


def encrypt(plaintext: str, *, associated_data: str) -> str:
    kid, key = _keys()[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), associated_data.encode())
    return f"{PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, *, associated_data: str) -> str:
    try:
        prefix, kid, payload = stored.split(":", 2)
        raw = base64.b64decode(payload.encode(), validate=True)
    except ValueError:
        raise DecryptionError("The stored value is not an encrypted secret.") from None
    if prefix != PREFIX or len(raw) < 12 + 16:
        raise DecryptionError("The stored value is not an encrypted secret.")
    key = dict(_keys()).get(kid)
    if key is None:
        raise DecryptionError(
            f"No key in FIELD_ENCRYPTION_KEYS has id {kid}; was the old key dropped too soon?"
        )
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], associated_data.encode()).decode()
    except InvalidTag:
        raise DecryptionError(
            "A stored secret failed authentication: wrong key, or the value was altered or moved."
        ) from None


def stored_key_id(stored: str) -> str | None:
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None
