"""Issuing access tokens: EdDSA (Ed25519) JWTs whose public key is published as JWKS.

Passport is the only issuer in production; tests of the other services mint tokens with the same
class and a key made for the test run (`cet_shared.testing.TestTokens`)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenSigner:
    def __init__(self, private_key: Ed25519PrivateKey, *, issuer: str, audience: str, lifetime: timedelta) -> None:
        self._key = private_key
        self._issuer = issuer
        self._audience = audience
        self.lifetime = lifetime
        public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public), "use": "sig", "alg": "EdDSA"}
        # RFC 7638 thumbprint as kid: a new key gets a new kid, so verifiers know to refresh.
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": self._jwk["x"]}, separators=(",", ":"), sort_keys=True)
        self._jwk["kid"] = _b64url(hashlib.sha256(canonical.encode()).digest())

    @classmethod
    def from_pem_file(cls, path: str | Path, **kwargs: Any) -> TokenSigner:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key, **kwargs)

    @property
    def kid(self) -> str:
        return self._jwk["kid"]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def issue(
        self,
        *,
        passport_id: str,
        roles: list[str],
        token_version: int,
        school_code: str | None,
        now: datetime,
        province_code: str | None = None,
        lifetime: timedelta | None = None,
        token_id: str | None = None,
    ) -> str:
        """`lifetime` shortens a session below the default (staff sessions are shorter than candidates')."""
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": passport_id,
            "roles": sorted(roles),
            "ver": token_version,
            "iat": int(now.timestamp()),
            "exp": int((now + (lifetime or self.lifetime)).timestamp()),
            "jti": token_id or uuid.uuid4().hex,  # what a log-out revokes (cet_shared.revocations)
        }
        if school_code:
            claims["school"] = school_code
        if province_code:
            claims["province"] = province_code
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})
