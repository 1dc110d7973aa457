"""Verifying passport's access tokens offline, and role checks.

Passport signs short-lived JWTs (EdDSA) and publishes its JWKS. Every service verifies tokens
itself against the cached key set; an unknown `kid` (passport rotated its key) triggers one
refresh, at most every `min_refresh` seconds, so forged kids cannot hammer passport.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import jwt
from fastapi import Depends, Request

from cet_shared import audit
from cet_shared.problems import Problem, forbidden, not_authenticated
from cet_shared.revocations import Revocations

ACCESS_COOKIE = "cet_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROLES = ("candidate", "teacher", "province_admin", "support", "ops")


@dataclass(frozen=True)
class Principal:
    passport_id: str
    roles: frozenset[str]
    token_version: int = 0
    school_code: str | None = None  # teachers act only for their own school
    province_code: str | None = None  # province administrators act only for their own province
    token_id: str | None = field(default=None, compare=False)  # the token's jti, what a log-out revokes
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, role: str) -> bool:
        return role in self.roles


class TokenVerifier:
    def __init__(
        self,
        jwks_source: str | dict[str, Any],
        *,
        issuer: str,
        audience: str,
        cache_seconds: float = 300.0,
        min_refresh: float = 30.0,
        cache_size: int = 10_000,
    ) -> None:
        self._source = jwks_source
        self._issuer = issuer
        self._audience = audience
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh
        self._keys: dict[str, Any] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        # Candidates send the same token with every request of a session: a signature checked
        # once holds until the token expires, so the check is not repeated (bounded, LRU).
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_size = cache_size

    async def _load(self) -> None:
        source = self._source
        if isinstance(source, dict):
            document = source
        elif source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(source)
                response.raise_for_status()
                document = response.json()
        else:
            document = json.loads(Path(source.removeprefix("file://")).read_text())
        keys = {}
        for jwk in document.get("keys", []):
            keys[jwk["kid"]] = jwt.PyJWK(jwk)
        self._keys = keys
        self._loaded_at = time.monotonic()

    async def _key(self, kid: str) -> Any:
        now = time.monotonic()
        stale = now - self._loaded_at > self._cache_seconds
        if kid not in self._keys or stale:
            async with self._lock:
                if (kid not in self._keys and now - self._loaded_at > self._min_refresh) or stale or not self._keys:
                    try:
                        await self._load()
                    except (httpx.HTTPError, OSError, ValueError) as exc:
                        if not self._keys:
                            raise Problem(503, "auth_unavailable", "登录服务暂不可用，请稍后再试") from exc
        key = self._keys.get(kid)
        if key is None:
            raise not_authenticated()
        return key

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None and hit[0] > time.time():
            self._verified.move_to_end(token)
            return hit[1]
        principal = await self._verify_signed(token)
        self._verified[token] = (float(principal.claims["exp"]), principal)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify_signed(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise not_authenticated() from None
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["EdDSA"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            raise not_authenticated() from None
        roles = frozenset(r for r in claims.get("roles", []) if r in ROLES)
        return Principal(
            passport_id=claims["sub"],
            roles=roles,
            token_version=int(claims.get("ver", 0)),
            school_code=claims.get("school"),
            province_code=claims.get("province"),
            token_id=claims.get("jti"),
            claims=claims,
        )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    # The portal keeps the token in an HttpOnly, SameSite=Strict cookie no script can read.
    return request.cookies.get(ACCESS_COOKIE)


async def current_principal(request: Request) -> Principal:
    token = bearer_token(request)
    if not token:
        raise not_authenticated()
    if "authorization" not in request.headers:
        refuse_cross_site(request)
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(token)
    revocations = app_revocations(request)
    if revocations is not None:
        await revocations.refresh_if_due()
        if revocations.revoked(principal.passport_id, principal.token_version, principal.token_id):
            raise session_expired()
    audit.note_principal(principal, request.client.host if request.client else None)  # who acts, from where
    return principal


def refuse_cross_site(request: Request) -> None:
    """A write authenticated by the cookie must come from the portal's own pages (CSRF), beyond
    what SameSite=Strict gives: browsers say where a request comes from in Sec-Fetch-Site, and
    in Origin. A client that sends neither is no browser acting for someone else."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site in ("same-origin", "none"):
            return
        raise cross_site()
    origin = request.headers.get("origin")
    # Host names only: the gateway forwards `Host: $host`, which carries no port.
    if origin is not None and urlsplit(origin).hostname != urlsplit(f"//{request.headers.get('host', '')}").hostname:
        raise cross_site()


def cross_site() -> Problem:
    return Problem(403, "cross_site_request", "请从报名网站页面提交")


def session_expired() -> Problem:
    return Problem(401, "session_expired", "登录已失效，请重新登录", headers={"WWW-Authenticate": "Bearer"})


def app_revocations(request: Request) -> Revocations | None:
    """The app's revocation set, made on first use from its database (an app without one, such
    as a unit test's, verifies signatures only)."""
    state = request.app.state
    revocations = getattr(state, "token_revocations", None)
    if revocations is None:
        engine = getattr(state, "engine", None)
        if engine is None:
            return None
        revocations = state.token_revocations = Revocations(engine)
    return revocations


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> Any:  # what Depends() returns: a FastAPI dependency marker
    """Dependency: the caller holds at least one of `roles` (least privilege: name them exactly)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not any(principal.has(role) for role in roles):
            raise forbidden()
        return principal

    return Depends(check)
