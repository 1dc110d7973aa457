"""Staff scopes (issue 15, README "Staff scopes"): a scoped role must carry its scope, whichever
service checks it; an unscoped role beside it (ops) needs none; a role not named is 403."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from cet_shared.auth import CurrentPrincipal
from cet_shared.problems import install_problem_handlers
from cet_shared.staff_scope import require_scoped_role
from cet_shared.testing import TestTokens


def _headers(tokens: TestTokens, *roles: str, school: str | None = None, province: str | None = None) -> dict[str, str]:
    token = tokens.signer.issue(passport_id="A" * 32, roles=list(roles), token_version=0, school_code=school, province_code=province, now=datetime.now(UTC))
    return {"authorization": f"Bearer {token}"}


async def test_a_scoped_role_must_carry_its_scope_and_the_token_carries_it_to_every_service():
    tokens = TestTokens()
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = tokens.verifier()

    @app.get("/teachers", dependencies=[require_scoped_role("teacher")])
    async def teachers(principal: CurrentPrincipal) -> dict:
        return {"school": principal.school_code}

    @app.get("/notices", dependencies=[require_scoped_role("ops", "province_admin")])
    async def notices(principal: CurrentPrincipal) -> dict:
        return {"province": principal.province_code}

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/teachers", headers=_headers(tokens, "teacher", school="99101"))).json() == {"school": "99101"}
        unscoped = await client.get("/teachers", headers=_headers(tokens, "teacher"))
        assert unscoped.status_code == 403 and unscoped.json()["code"] == "teacher_without_school"
        # A province administrator is no teacher anywhere, even with a province.
        assert (await client.get("/teachers", headers=_headers(tokens, "province_admin", province="99"))).json()["code"] == "forbidden"

        assert (await client.get("/notices", headers=_headers(tokens, "province_admin", province="99"))).json() == {"province": "99"}
        assert (await client.get("/notices", headers=_headers(tokens, "ops"))).json() == {"province": None}
        no_province = await client.get("/notices", headers=_headers(tokens, "province_admin"))
        assert no_province.status_code == 403 and no_province.json()["code"] == "province_admin_without_province"
        for role in ("teacher", "support", "candidate"):
            assert (await client.get("/notices", headers=_headers(tokens, role, school="99101"))).status_code == 403
