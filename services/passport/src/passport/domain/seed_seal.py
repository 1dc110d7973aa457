"""Staff TOTP seeds encrypted at rest (issue 15): AES-256-GCM, the account's passport id as
associated data (a sealed seed copied onto another account's row does not open), and a key id in
front, so keys rotate: the first key of `PASSPORT_TOTP_SEED_KEYS` seals, every listed key opens,
and a seed sealed with an older key is sealed again with the current one when next read.

Stored form: `<key id>:<urlsafe base64 of a 12-byte nonce + ciphertext + tag>`.
Keys: `PASSPORT_TOTP_SEED_KEYS="k2=<base64 of 32 bytes>,k1=<…>"` (e.g. `openssl rand -base64 32`).
Pure: no I/O; the key text comes from the settings (or, in the migration, the environment)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
DEVELOPMENT_KEY_ID = "dev"


class SeedKeysInvalid(ValueError):
    pass


class SeedUnreadable(ValueError):
    """Sealed with a key this process does not have, or altered, or moved to another account."""


def _key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SeedKeysInvalid("a TOTP seed key is not base64") from None
    if len(key) != KEY_BYTES:
        raise SeedKeysInvalid(f"a TOTP seed key must be {KEY_BYTES} bytes (AES-256), not {len(key)}")
    return key


class SeedSeal:
    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current

    @classmethod
    def parse(cls, text: str) -> SeedSeal:
        """`kid=base64key,…`; the first one seals."""
        keys: dict[str, bytes] = {}
        for entry in filter(None, (part.strip() for part in text.split(","))):
            kid, sep, key = entry.partition("=")
            if not sep or not kid or not kid.isalnum() or kid in keys:
                raise SeedKeysInvalid("PASSPORT_TOTP_SEED_KEYS is `id=base64key,…` with distinct alphanumeric ids")
            keys[kid] = _key(key)
        if not keys:
            raise SeedKeysInvalid("no TOTP seed key")
        return cls(keys, next(iter(keys)))

    @classmethod
    def for_development(cls, captcha_secret: str) -> SeedSeal:
        """Development and test only (the settings refuse it elsewhere): a key derived from the
        local captcha secret, so a local stack needs no extra secret."""
        return cls({DEVELOPMENT_KEY_ID: hashlib.sha256(("cet-totp-seed:" + captcha_secret).encode()).digest()}, DEVELOPMENT_KEY_ID)

    def seal(self, seed: str, *, passport_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, seed.encode(), passport_id.encode())
        return f"{self.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, passport_id: str) -> str:
        kid, _, body = stored.partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SeedUnreadable(f"no TOTP seed key {kid!r}")
        try:
            raw = base64.urlsafe_b64decode(body)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], passport_id.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SeedUnreadable("a sealed TOTP seed does not open") from None

    def is_current(self, stored: str) -> bool:
        return stored.partition(":")[0] == self.current


def seed_seal(keys: str, *, relaxed: bool, captcha_secret: str) -> SeedSeal:
    """The configured keys; without any, the development key where that is allowed."""
    if keys.strip():
        return SeedSeal.parse(keys)
    if not relaxed:
        raise SeedKeysInvalid("PASSPORT_TOTP_SEED_KEYS must be set outside development and test")
    return SeedSeal.for_development(captcha_secret)
