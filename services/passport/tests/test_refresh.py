"""Issue 11 (log-in at the peak): a session renews its short access token with a refresh token —
no password hash — rotating at every use; a refresh token used twice ends its whole log-in; log-out,
a password change and a reset end every refresh token. On the real PostgreSQL, through the API."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from cet_shared.db.tables import outbox
from passport.db.repositories import SqlRefreshTokens
from passport.db.tables import refresh_tokens
from passport.domain.sessions import RefreshToken

NEW_PASSWORD = "Cet2018-pass!"


@pytest.fixture(autouse=True)
def refresh_cookie_on_service_paths(ctx) -> None:
    """Called without the gateway the session paths have no /api/passport prefix."""
    ctx.settings.refresh_cookie_path = "/sessions"


def refresh_cookie(response) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith("cet_refresh=")]
    return header


async def log_in(api) -> tuple[dict[str, str], str]:
    """(the access token's header, the refresh token) of a new log-in."""
    response = await api.log_in()
    assert response.status_code == 200, response.text
    token = re.match(r"cet_refresh=([^;]+)", refresh_cookie(response)).group(1)
    return {"authorization": f"Bearer {response.json()['access_token']}"}, token


async def refresh(client, token: str, **headers: str):
    client.cookies.clear()  # only the refresh token named here, not the jar's latest
    return await client.post("/sessions/refresh", headers={"cookie": f"cet_refresh={token}", **headers})


def bearer(response) -> dict[str, str]:
    return {"authorization": f"Bearer {response.json()['access_token']}"}


async def reasons(ctx) -> list[str]:
    async with ctx.sessions() as session:
        rows = (await session.execute(select(outbox.c.envelope).where(outbox.c.event_type == "SessionsRevoked").order_by(outbox.c.id))).scalars()
        return [row["payload"]["reason"] for row in rows]


async def test_the_refresh_cookie_is_httponly_strict_and_sent_only_to_the_session_paths(api, ctx):
    await api.register()
    response = await api.log_in()
    cookie = refresh_cookie(response).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/sessions" in cookie
    assert f"max-age={int(ctx.settings.refresh_token_lifetime.total_seconds())}" in cookie
    async with ctx.sessions() as session:
        stored = (await session.execute(select(refresh_tokens.c.token_hash))).scalars().all()
    assert len(stored) == 1 and stored[0] not in cookie, "only the token's hash is stored"


async def test_a_refresh_gives_a_working_access_token_without_the_password(api, client, ctx):
    await api.register()
    access, token = await log_in(api)
    hashing, ctx.passwords = ctx.passwords, None  # nothing below may hash or verify a password
    try:
        renewed = await refresh(client, token)
        assert renewed.status_code == 200, renewed.text
        assert renewed.headers["cache-control"] == "no-store"
        assert renewed.json()["expires_in"] == int(ctx.settings.access_token_lifetime.total_seconds())
        assert (await client.get("/me", headers=bearer(renewed))).status_code == 200
        assert bearer(renewed) != access
        assert re.match(r"cet_refresh=([^;]+)", refresh_cookie(renewed)).group(1) != token, "the refresh token rotates"
    finally:
        ctx.passwords = hashing  # the container closes its hashing threads


async def test_reuse_of_a_rotated_refresh_token_ends_the_whole_log_in_everywhere(api, client, ctx):
    await api.register()
    _, stolen = await log_in(api)
    first = await refresh(client, stolen)  # the thief (or the owner) refreshes first …
    assert first.status_code == 200
    successor = re.match(r"cet_refresh=([^;]+)", refresh_cookie(first)).group(1)
    again = await refresh(client, stolen)  # … and the other one presents the same token again
    assert again.status_code == 401 and again.json()["code"] == "session_expired"
    assert "cet_refresh=" in again.headers["set-cookie"] and "max-age=0" in again.headers["set-cookie"].lower(), "the dead cookie is cleared"
    assert (await refresh(client, successor)).status_code == 401, "the family is revoked, not only the reused token"
    assert (await client.get("/me", headers=bearer(first))).status_code == 401, "and the access token the successor brought"
    assert "refresh_reuse" in await reasons(ctx), "the other services learn it through SessionsRevoked"
    _, fresh = await log_in(api)
    assert (await refresh(client, fresh)).status_code == 200, "a new log-in works"


async def test_two_refreshes_with_one_token_at_once_never_both_succeed(api, client, ctx, monkeypatch):
    await api.register()
    locked = SqlRefreshTokens.get_for_update

    async def unlocked(self, token_hash: str):
        row = (await self._session.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash))).first()
        await barrier.wait()  # both have read the token before either marks it used
        return RefreshToken(**row._asdict()) if row else None

    async def at_once(self, token_hash: str):
        await barrier.wait()
        return await locked(self, token_hash)

    barrier = asyncio.Barrier(2)
    monkeypatch.setattr(SqlRefreshTokens, "get_for_update", unlocked)
    _, token = await log_in(api)
    race = await asyncio.gather(refresh(client, token), refresh(client, token))
    assert [r.status_code for r in race] == [200, 200], "without the row lock one refresh token renews twice"

    barrier = asyncio.Barrier(2)
    monkeypatch.setattr(SqlRefreshTokens, "get_for_update", at_once)
    _, token = await log_in(api)
    guarded = await asyncio.gather(refresh(client, token), refresh(client, token))
    assert sorted(r.status_code for r in guarded) == [200, 401], "with it the second sees the token used"


async def test_log_out_ends_the_refresh_token_and_its_access_tokens(api, client, ctx):
    await api.register()
    access, token = await log_in(api)
    renewed = await refresh(client, token)
    client.cookies.clear()
    successor = re.match(r"cet_refresh=([^;]+)", refresh_cookie(renewed)).group(1)
    out = await client.delete("/sessions", headers={**bearer(renewed), "cookie": f"cet_refresh={successor}"})
    assert out.status_code == 204
    assert any(h.startswith("cet_refresh=") for h in out.headers.get_list("set-cookie"))
    assert (await refresh(client, successor)).status_code == 401
    assert (await client.get("/me", headers=bearer(renewed))).status_code == 401
    assert (await client.get("/me", headers=access)).status_code == 401, "the log-in's earlier access token ends too"
    assert await reasons(ctx) == ["log_out", "log_out"]


async def test_a_password_change_or_reset_ends_every_refresh_token(api, client, captchas, ctx):
    await api.register()
    access, changed_away = await log_in(api)
    _, other_browser = await log_in(api)
    changed = await client.post(
        "/me/password", headers=access, json={"old_password": "Cet2017-pass", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert (await refresh(client, changed_away)).status_code == 401
    assert (await refresh(client, other_browser)).status_code == 401

    _, before_reset = await log_in_with(api, NEW_PASSWORD)
    await client.post("/password/recovery", json={"email": "liaoxiaoer@example.com", **captchas.solved()})
    async with ctx.sessions() as session:
        from passport.db.tables import mail_queue

        body = (await session.execute(select(mail_queue.c.body).where(mail_queue.c.subject.contains("密码找回")))).scalar_one()
    link = re.search(r"password/reset\?token=([\w-]+)", body).group(1)
    reset = await client.post(
        "/password/reset", json={"token": link, "email": "liaoxiaoer@example.com", "password": "Cet2019-pass!", "confirm_password": "Cet2019-pass!"}
    )
    assert reset.status_code == 200
    assert (await refresh(client, before_reset)).status_code == 401


async def log_in_with(api, password: str) -> tuple[dict[str, str], str]:
    response = await api.log_in(password=password)
    assert response.status_code == 200, response.text
    return bearer(response), re.match(r"cet_refresh=([^;]+)", refresh_cookie(response)).group(1)


async def test_a_session_ends_at_the_refresh_lifetime_however_often_it_renews(api, client, ctx):
    await api.register()
    _, token = await log_in(api)
    lifetime = ctx.settings.refresh_token_lifetime
    ctx.clock.advance(lifetime / 2)
    renewed = await refresh(client, token)
    assert renewed.status_code == 200
    assert f"max-age={int((lifetime / 2).total_seconds())}" in refresh_cookie(renewed).lower(), "rotation keeps the log-in's end"
    ctx.clock.advance(lifetime / 2 + timedelta(seconds=1))
    late = await refresh(client, re.match(r"cet_refresh=([^;]+)", refresh_cookie(renewed)).group(1))
    assert late.status_code == 401


async def test_refresh_refuses_cross_site_requests_and_missing_or_unknown_tokens(api, client):
    await api.register()
    _, token = await log_in(api)
    cross = await refresh(client, token, **{"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403 and cross.json()["code"] == "cross_site_request"
    client.cookies.clear()
    assert (await client.post("/sessions/refresh")).status_code == 401
    assert (await refresh(client, "not-a-token")).status_code == 401
    assert (await refresh(client, token)).status_code == 200, "the refused cross-site attempt did not spend it"
