"""The gateway (issue 6, "Gateway"): what it exposes, its limits at the edge, its headers."""

from __future__ import annotations

import asyncio

import httpx
from cet_stack import Stack


async def test_o2_o3_gateway_exposes_the_apis_and_nothing_else(stack: Stack) -> None:
    """O2: the portal reaches the services only through the gateway's /api paths (their docs and
    health endpoints stay inside); O3: the payment platforms reach only payment's notify paths."""
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=10) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        captcha = await client.get("/api/passport/captcha")
        assert captcha.status_code == 200 and captcha.json()["image"].startswith("data:image/png;base64,")
        assert (await client.get("/api/passport/.well-known/jwks.json")).json()["keys"]
        for hidden in (
            "/api/passport/docs",
            "/api/passport/openapi.json",
            "/api/eligibility/healthz",
            "/api/eligibility/readyz",
            "/api/enrolment/docs",
            "/api/payment/openapi.json",
            "/api/unknown/x",
        ):
            response = await client.get(hidden)
            assert response.status_code == 404, hidden
            assert response.headers["content-type"].startswith("application/problem+json"), hidden
            assert response.json()["code"] == "not_found"
        for portal_path in ("/docs", "/openapi.json"):  # the portal's, never a service's
            assert "swagger" not in (await client.get(portal_path)).text.lower()
        # a service's own problem+json passes through unchanged
        me = await client.get("/api/passport/me")
        assert me.status_code == 401 and me.json()["code"] == "not_authenticated"
        # the payment platforms reach payment's notification paths by POST only
        assert (await client.get("/api/payment/notify/alipay")).status_code in (403, 404, 405)


async def test_gateway_security_headers_and_portal(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=10) as client:
        page = await client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        # the portal's own routes (links in mails) get its page too
        assert (await client.get("/password/reset", params={"token": "x" * 20})).status_code == 200
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "http://" not in csp.replace(stack.url("sandbox"), "")  # no external origin but the pay page's form target
        assert page.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/.git/config")).status_code == 404
        api = await client.get("/api/passport/captcha")
        assert api.headers["x-content-type-options"] == "nosniff"
        assert "server" not in api.headers or "nginx/" not in api.headers["server"]


async def test_gateway_forwards_the_client_address_not_a_forged_one(stack: Stack) -> None:
    """X-Forwarded-For from the client is replaced by the address the gateway saw: a candidate
    cannot pose as another address to escape the services' own per-client limits."""
    log = stack.root / "gateway" / "access.log"
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=10) as client:
        response = await client.get("/api/passport/captcha", headers={"x-forwarded-for": "203.0.113.9", "x-real-ip": "203.0.113.9"})
    assert response.status_code == 200
    assert "203.0.113.9" not in log.read_text()


async def test_gateway_rate_limits_password_recovery_with_problem_json(stack: Stack) -> None:
    """Edge rate limit (the run sets password recovery to 1/s, burst 5): a flood gets 429
    problem+json with a Chinese title. Runs last (conftest): the bucket needs a while to refill."""
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=10) as client:
        body = {"email": "flood@example.com", "captcha_token": "x", "captcha_answer": "x"}
        answers = await asyncio.gather(*(client.post("/api/passport/password/recovery", json=body) for _ in range(20)))
        # The gateway's own 429s (Retry-After 1: its bucket); the few it lets through may meet passport's
        # per-address throttle, whose 429 says how long its window still runs.
        limited = [r for r in answers if r.status_code == 429 and r.headers.get("retry-after") == "1"]
        assert len(limited) >= 10
        problem = limited[0].json()
        assert limited[0].headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == "too_many_requests" and problem["title"] == "操作过于频繁，请稍后再试"
        assert limited[0].headers["retry-after"] == "1"
        # other paths and zones are not affected
        assert (await client.get("/api/passport/captcha")).status_code == 200
        assert (await client.post("/api/eligibility/account-recovery", json={}, headers={})).status_code == 422
