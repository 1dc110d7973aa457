"""Offline verification of passport's access tokens against its JWKS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from cet_shared.auth import CurrentPrincipal, Principal, TokenVerifier, require_role
from cet_shared.problems import Problem, install_problem_handlers
from cet_shared.testing import TestTokens


async def test_verifies_tokens_from_a_jwks_file_and_refreshes_on_a_new_key(tmp_path):
    old, new = TestTokens(), TestTokens()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(old.jwks))
    verifier = TokenVerifier(str(jwks_file), issuer="cet-passport", audience="cet-suite", min_refresh=0)
    principal = await verifier.verify(old.token("A" * 32, "teacher", school_code="99101"))
    assert principal == Principal(passport_id="A" * 32, roles=frozenset({"teacher"}), school_code="99101")
    # Passport rotates its key: the unknown kid makes the verifier read the key set again.
    jwks_file.write_text(json.dumps({"keys": old.jwks["keys"] + new.jwks["keys"]}))
    assert (await verifier.verify(new.token("B" * 32))).roles == frozenset({"candidate"})


async def test_refuses_expired_foreign_and_wrong_audience_tokens():
    tokens = TestTokens()
    verifier = tokens.verifier()
    expired = tokens.signer.issue(passport_id="A" * 32, roles=["candidate"], token_version=0, school_code=None, now=datetime.now(UTC) - timedelta(hours=2))
    stranger = TestTokens().token()
    other_audience = TestTokens(audience="somebody-else")
    other_audience.signer = tokens.signer.__class__(tokens.signer._key, issuer="cet-passport", audience="somebody-else", lifetime=timedelta(minutes=5))
    forged_roles = jwt.encode({"sub": "A" * 32, "roles": ["ops"]}, "a-guessed-shared-secret-of-32-bytes!", algorithm="HS256")
    for bad in (expired, stranger, other_audience.token(), forged_roles, "not-a-jwt"):
        with pytest.raises(Problem) as refused:
            await verifier.verify(bad)
        assert refused.value.status == 401


async def test_roles_are_checked_on_the_endpoint():
    tokens = TestTokens()
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = tokens.verifier()

    @app.get("/ops-only", dependencies=[require_role("ops")])
    async def ops_only(principal: CurrentPrincipal) -> dict:
        return {"who": principal.passport_id}

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/ops-only", headers=tokens.headers("A" * 32, "ops"))).json() == {"who": "A" * 32}
        forbidden = await client.get("/ops-only", headers=tokens.headers("A" * 32, "teacher"))
        assert forbidden.status_code == 403 and forbidden.json()["title"] == "没有权限执行此操作"
        anonymous = await client.get("/ops-only")
        assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"


async def test_a_verified_token_is_remembered_only_until_it_expires(monkeypatch):
    tokens = TestTokens()
    verifier = tokens.verifier()
    token = tokens.token("A" * 32, "candidate")
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first, "the second request does not check the signature again"
    later = first.claims["exp"] + 1
    monkeypatch.setattr("cet_shared.auth.time.time", lambda: later)
    assert await verifier.verify(token) is not first, "past its expiry the token is checked afresh (and refused, see above)"


async def test_cookie_authenticated_writes_must_come_from_the_same_origin():
    """CSRF beyond SameSite: a cookie-authenticated POST from another site is refused (403), by
    Sec-Fetch-Site or by Origin; reads, same-origin writes and bearer-token clients pass."""
    tokens = TestTokens()
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = tokens.verifier()

    @app.api_route("/write", methods=["GET", "POST"])
    async def write(principal: CurrentPrincipal) -> dict:
        return {"who": principal.passport_id}

    token = tokens.token("A" * 32, "candidate")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://cet.test", cookies={"cet_access": token}) as client:
        for hostile in ({"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"}, {"origin": "https://evil.example"}, {"origin": "null"}):
            refused = await client.post("/write", headers=hostile)
            assert refused.status_code == 403 and refused.json()["code"] == "cross_site_request", hostile
            assert (await client.get("/write", headers=hostile)).status_code == 200, "reads are not writes"
        for friendly in ({"sec-fetch-site": "same-origin"}, {"origin": "http://cet.test"}, {"origin": "http://cet.test:8080"}, {}):
            assert (await client.post("/write", headers=friendly)).status_code == 200, friendly
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://cet.test") as client:
        bearer = await client.post("/write", headers={"authorization": f"Bearer {token}", "origin": "https://evil.example"})
        assert bearer.status_code == 200, "a bearer token is never sent by a browser on its own"
