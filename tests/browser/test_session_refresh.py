"""Issue 11 (log-in at the peak): a candidate who keeps the portal open past the access token's
life is not sent to the log-in page — the portal renews the token through the refresh cookie and
repeats the request; a refresh cookie used a second time (a copy) ends the session; 退出 clears it."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

try:
    from playwright.async_api import expect
except ImportError:  # not installed: the `browser` fixture fails every test here and says how to install it
    expect = None

PASSWORD = "Cet-Refresh-2026"
START_HEADING = "欢迎登录CET考试报名系统"


async def cookie(context, name: str) -> dict | None:
    return next((c for c in await context.cookies() if c["name"] == name), None)


async def test_an_expired_access_token_is_renewed_without_the_log_in_page(visit, stack) -> None:
    v = await visit()
    page, context = v.page, v.page.context
    email = f"refresh.{uuid.uuid4().hex[:8]}@example.com"
    await v.register(email, PASSWORD)
    await v.log_in(email, PASSWORD)
    first = await cookie(context, "cet_refresh")
    assert first and first["httpOnly"] and first["sameSite"] == "Strict" and first["path"] == "/api/passport/sessions"
    renewals: list[int] = []
    page.on("response", lambda r: renewals.append(r.status) if urlsplit(r.url).path == "/api/passport/sessions/refresh" else None)

    # The browser forgets the access cookie when its Max-Age runs out; the portal stays open.
    await context.clear_cookies(name="cet_access")
    v.expect_failure("/api/eligibility/home", 401)  # the first answer, before the renewal
    await page.get_by_role("navigation", name="网站导航").get_by_role("link", name="考试简介").click()
    await page.get_by_role("navigation", name="网站导航").get_by_role("link", name="进入报名").click()
    await expect(page.get_by_role("heading", name=START_HEADING)).to_be_visible()
    assert urlsplit(page.url).path == "/start" and renewals == [200]
    assert await cookie(context, "cet_access"), "a new access cookie"
    await v.shot("renewed-in-the-open-page")

    # A page opened again after the token expired renews the same way.
    await context.clear_cookies(name="cet_access")
    await page.reload()
    await expect(page.get_by_role("heading", name=START_HEADING)).to_be_visible()
    assert urlsplit(page.url).path == "/start" and renewals == [200, 200]

    # The first refresh cookie, already used, comes back (a copy someone kept): the session ends.
    await context.clear_cookies(name="cet_access")
    await context.add_cookies([first])
    await page.reload()
    await expect(page.get_by_role("heading", name="考生登录")).to_be_visible()
    assert urlsplit(page.url).path == "/login" and renewals[-1] == 401
    await v.shot("copied-cookie-ends-the-session")

    # Logged in again, 退出 ends the session and clears the refresh cookie.
    await v.log_in(email, PASSWORD)
    assert await cookie(context, "cet_refresh")
    await page.get_by_role("button", name="退出").click()
    await expect(page.locator("#who").get_by_role("link", name="登录")).to_be_visible()
    assert await cookie(context, "cet_refresh") is None and await cookie(context, "cet_access") is None
