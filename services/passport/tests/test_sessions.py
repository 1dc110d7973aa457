"""Sessions end everywhere (P4, P7, 退出): passport refuses the token at once and publishes
SessionsRevoked for the other services; token answers are never cached."""

from __future__ import annotations

import re

from sqlalchemy import select

from cet_shared.db.tables import outbox, token_revocations

NEW_PASSWORD = "Cet2018-pass!"


async def revocation_events(ctx) -> list[dict]:
    async with ctx.sessions() as session:
        rows = (await session.execute(select(outbox.c.envelope).where(outbox.c.event_type == "SessionsRevoked").order_by(outbox.c.id))).scalars().all()
    return [row["payload"] for row in rows]


async def test_token_answers_are_not_cached(api):
    await api.register()
    response = await api.log_in()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_log_out_revokes_the_token_itself_not_only_the_cookie(api, client, ctx):
    await api.register()
    kept = await api.bearer()  # another browser of the same account
    leaving = await api.bearer()
    assert (await client.get("/me", headers=leaving)).status_code == 200

    out = await client.delete("/sessions", headers=leaving)
    assert out.status_code == 204
    refused = await client.get("/me", headers=leaving)
    assert refused.status_code == 401 and refused.json()["code"] == "session_expired"
    assert (await client.get("/me", headers=kept)).status_code == 200, "only this session ends"

    [event] = await revocation_events(ctx)
    assert event["reason"] == "log_out" and event["token_id"] and event["token_version_below"] is None
    async with ctx.sessions() as session:
        stored = (await session.execute(select(token_revocations.c.token_id))).scalars().all()
    assert stored == [event["token_id"]]
    # Logging out without a (valid) token only clears the cookie.
    assert (await client.delete("/sessions")).status_code == 204
    assert (await client.delete("/sessions", headers={"authorization": "Bearer junk"})).status_code == 204
    assert len(await revocation_events(ctx)) == 1


async def test_p7_password_change_publishes_the_new_token_version(api, client, ctx):
    passport_id = await api.signup()
    old = await api.bearer()
    changed = await client.post(
        "/me/password", headers=old, json={"old_password": "Cet2017-pass", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    [event] = await revocation_events(ctx)
    assert event == {
        **event,
        "passport_id": passport_id,
        "reason": "password_change",
        "token_version_below": 1,
        "token_id": None,
    }
    assert re.match(r"\d{4}-", event["expires_at"])
    assert (await client.get("/me", headers=old)).status_code == 401


async def test_p4_a_school_behind_one_address_recovers_many_passwords_but_one_account_only_a_few_times(client, captchas, ctx):
    for i in range(30):  # the old per-address budget was 10 per 15 minutes
        asked = await client.post("/password/recovery", json={"email": f"student{i}@example.com", **captchas.solved()})
        assert asked.status_code == 202, (i, asked.text)
    for _ in range(ctx.settings.recovery_requests_per_account):
        assert (await client.post("/password/recovery", json={"email": "one@example.com", **captchas.solved()})).status_code == 202
    limited = await client.post("/password/recovery", json={"email": "ONE@example.com", **captchas.solved()})
    assert limited.status_code == 429
