"""Sessions end everywhere (P4 "older sessions stop working", P7, 退出), through the gateway: after a
password reset, a password change or a log-out, the old access token is refused by eligibility,
enrolment and payment — not only by passport — within 2 s. The path: passport's outbox →
SessionsRevoked on Kafka → each service's revocation consumer → the verifier's set, re-read every second."""

from __future__ import annotations

import asyncio
import time

import httpx
from cet_stack import Mailbox, Stack
from e2e_clients import PASSWORD, User, register, wait_until

WITHIN_SECONDS = 2.0
# One candidate-only read per service: any answer but 401 means the token was taken.
PROBES = {
    "passport": "/api/passport/me",
    "eligibility": "/api/eligibility/home",
    "enrolment": "/api/enrolment/me/registration",
    "payment": "/api/payment/gateways",
}


async def answers(stack: Stack, client: httpx.AsyncClient, token: str) -> dict[str, httpx.Response]:
    """Each service through the gateway, and each enrolment replica on its own port: the gateway
    picks one replica per request, and every replica must refuse the token, not just the one asked."""
    probes = dict(PROBES)
    for name in sorted(stack.ports):
        if name.startswith("enrolment-") and name[len("enrolment-") :].isdigit():
            probes[f"{name} (replica)"] = f"{stack.url(name)}/me/registration"
    headers = {"authorization": f"Bearer {token}"}
    responses = await asyncio.gather(*(client.get(path, headers=headers) for path in probes.values()))
    return dict(zip(probes, responses, strict=True))


async def assert_taken_everywhere(stack: Stack, client: httpx.AsyncClient, token: str) -> None:
    for service, response in (await answers(stack, client, token)).items():
        assert response.status_code != 401, f"{service} refused a live token: {response.text}"


async def assert_refused_everywhere_soon(stack: Stack, client: httpx.AsyncClient, token: str, since: float) -> float:
    """Waits (up to the bound) until every service answers 401 session_expired; returns the delay."""

    async def refused() -> bool:
        latest = await answers(stack, client, token)
        return all(r.status_code == 401 for r in latest.values())

    await wait_until(refused, timeout=WITHIN_SECONDS, interval=0.05, what="the old token refused by every service")
    delay = time.monotonic() - since
    for service, response in (await answers(stack, client, token)).items():
        assert response.status_code == 401, service
        if service != "passport":
            assert response.json()["code"] == "session_expired", (service, response.text)
    assert delay <= WITHIN_SECONDS + 0.5, delay  # the last round of probes may add a little
    print(f"old token refused everywhere {delay:.2f}s after the change")
    return delay


async def old_token(user: User) -> str:
    return user.client.headers["authorization"].removeprefix("Bearer ")


async def test_p4_a_password_reset_ends_the_session_at_every_service(stack: Stack) -> None:
    user = await register(stack)
    token = await old_token(user)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        await assert_taken_everywhere(stack, browser, token)
        asked = await browser.post("/api/passport/password/recovery", json={"email": user.email, **stack.captcha()})
        assert asked.status_code == 202, asked.text
        link = Mailbox.link_token((await stack.mailbox.wait(user.email, "密码找回"))[0])
        new_password = "Reset-Everywhere-2017!"
        reset = await browser.post(
            "/api/passport/password/reset", json={"token": link, "email": user.email, "password": new_password, "confirm_password": new_password}
        )
        assert reset.status_code == 200, reset.text
        await assert_refused_everywhere_soon(stack, browser, token, time.monotonic())
        fresh = await User(stack, user.email, new_password).log_in()
        await assert_taken_everywhere(stack, browser, await old_token(fresh))
        await fresh.close()
    await user.close()


async def test_p7_a_password_change_ends_the_other_sessions_at_every_service(stack: Stack) -> None:
    user = await register(stack)
    other_browser = await User(stack, user.email).log_in()
    token = await old_token(other_browser)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        await assert_taken_everywhere(stack, browser, token)
        new_password = "Changed-Everywhere-2017!"
        changed = await user.post("/api/passport/me/password", json={"old_password": PASSWORD, "new_password": new_password, "confirm_password": new_password})
        assert changed.status_code == 200, changed.text
        await assert_refused_everywhere_soon(stack, browser, token, time.monotonic())
    await other_browser.close()
    await user.close()


async def test_log_out_ends_that_session_at_every_service_and_only_that_one(stack: Stack) -> None:
    user = await register(stack)
    staying = await User(stack, user.email).log_in()
    token = await old_token(user)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        await assert_taken_everywhere(stack, browser, token)
        out = await user.delete("/api/passport/sessions")
        assert out.status_code == 204, out.text
        await assert_refused_everywhere_soon(stack, browser, token, time.monotonic())
        await assert_taken_everywhere(stack, browser, await old_token(staying))
    await staying.close()
    await user.close()


async def test_a_refresh_token_used_twice_ends_that_session_at_every_service(stack: Stack) -> None:
    """Issue 11: the refresh cookie renews the access token through the gateway, without the
    password; a copy of it used after the owner renewed revokes the session's access tokens everywhere."""
    user = await register(stack)
    copied = user.client.cookies.get("cet_refresh", path="/api/passport/sessions")
    assert copied, "the log-in set the refresh cookie for the session paths"
    renewed = await user.post("/api/passport/sessions/refresh")
    assert renewed.status_code == 200, renewed.text
    token = renewed.json()["access_token"]
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as browser:
        await assert_taken_everywhere(stack, browser, token)
        replayed = await browser.post("/api/passport/sessions/refresh", headers={"cookie": f"cet_refresh={copied}"})
        assert replayed.status_code == 401 and replayed.json()["code"] == "session_expired", replayed.text
        await assert_refused_everywhere_soon(stack, browser, token, time.monotonic())
        assert (await user.post("/api/passport/sessions/refresh")).status_code == 401, "the owner's renewed cookie ended too"
    await user.close()
