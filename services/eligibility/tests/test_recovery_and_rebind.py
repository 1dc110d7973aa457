"""E11 account recovery and E12 rebinding by support."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select

from cet_shared.events.contracts import AccountEmailChanged, AccountRegistered
from eligibility.db.tables import rebind_audit


def sub(headers: dict[str, str]) -> str:
    return jwt.decode(headers["authorization"].split()[1], options={"verify_signature": False})["sub"]


async def registered(world, headers, email: str) -> None:
    pid = sub(headers)
    await world.deliver(AccountRegistered(passport_id=pid, email=email, registered_at=datetime(2017, 1, 1, tzinfo=UTC)), key=pid)


def captcha(ctx, answer: str = "K7PX") -> dict[str, str]:
    return {"captcha_token": ctx.captcha.seal(answer, clock=ctx.clock, ttl=timedelta(minutes=5)), "captcha_answer": answer}


async def test_e11_recovery_gives_the_masked_email_of_the_most_recent_session(world, client, ctx):
    await world.publish_session(name="2017年上半年CET考试")
    first, _ = await world.bound(world.LIAO)
    await registered(world, first, "liaoxiaoer@example.com")
    found = await client.post("/account-recovery", json={**world.LIAO, **captcha(ctx)})
    assert found.status_code == 200
    assert found.json() == {"found": True, "message": "找回成功", "email": "li********@example.com"}

    # Next session the candidate binds with another account: that one is "the most recent".
    await world.publish_session(session_id=uuid.uuid4(), opens_in=timedelta(days=180), name="2017年下半年CET考试")
    ctx.clock.advance(timedelta(days=181))
    second, _ = await world.bound(world.LIAO)
    await registered(world, second, "xiaoer.new@example.com")
    latest = (await client.post("/account-recovery", json={**world.LIAO, **captcha(ctx)})).json()
    assert latest["email"] == "xi********@example.com"
    # P6: the account changed its email; recovery follows (AccountEmailChanged).
    pid = sub(second)
    await world.deliver(
        AccountEmailChanged(passport_id=pid, old_email="xiaoer.new@example.com", email="lx2017@example.com", changed_at=datetime(2017, 9, 1, tzinfo=UTC)),
        key=pid,
    )
    assert (await client.post("/account-recovery", json={**world.LIAO, **captcha(ctx)})).json()["email"] == "lx****@example.com"


async def test_e11_same_answer_shape_whether_or_not_there_is_a_match(world, client, ctx):
    await world.publish_session()
    headers, _ = await world.bound(world.LIAO)
    await registered(world, headers, "liaoxiaoer@example.com")
    hit = await client.post("/account-recovery", json={**world.LIAO, **captcha(ctx)})
    wrong_name = await client.post("/account-recovery", json={**world.LIAO, "name": "廖晓", **captcha(ctx)})
    unbound = await client.post("/account-recovery", json={**world.LI_BO, **captcha(ctx)})
    assert hit.status_code == wrong_name.status_code == unbound.status_code == 200
    assert hit.json().keys() == wrong_name.json().keys() == unbound.json().keys()
    assert wrong_name.json() == unbound.json() == {"found": False, "message": wrong_name.json()["message"], "email": None}


async def test_e11_captcha_required_single_use_and_rate_limited_per_client(world, client, ctx):
    ctx.settings.recovery_requests_per_client = 3
    wrong = await client.post("/account-recovery", json={**world.LIAO, **captcha(ctx), "captcha_answer": "ZZZZ"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "captcha_invalid"
    used = captcha(ctx)
    assert (await client.post("/account-recovery", json={**world.LIAO, **used})).status_code == 200
    replay = await client.post("/account-recovery", json={**world.LIAO, **used})
    assert replay.status_code == 400 and replay.json()["code"] == "captcha_invalid"
    limited = await client.post("/account-recovery", json={**world.LIAO, **captcha(ctx)})
    assert limited.status_code == 429
    military = await client.post("/account-recovery", json={**world.LIAO, "id_type": "军官证", **captcha(ctx)})
    assert military.status_code == 422 and military.json()["code"] == "id_type_not_supported"


async def test_e12_support_rebinds_audited_and_the_new_account_sees_it(world, client, ctx, tokens):
    await world.publish_session()
    old, saved = await world.bound(world.LIAO)
    new_pid = world.new_passport_id()
    new = tokens.headers(new_pid, "candidate")
    agent_pid = world.new_passport_id()
    support = tokens.headers(agent_pid, "support")
    body = {"new_passport_id": new_pid, "reason": "考生注册邮箱错误且忘记密码，已核实身份 (P8b)"}
    path = f"/support/registrations/{saved['registration_id']}/rebind"
    assert (await client.post(path, json=body, headers=old)).status_code == 403, "candidates cannot rebind"
    assert (await client.post(path, json=body, headers=tokens.headers(None, "teacher", school_code="99101"))).status_code == 403
    found = (
        await client.post("/support/registrations/search", json={"id_type": "resident_id_card", "id_number": world.LIAO["id_number"]}, headers=support)
    ).json()
    (item,) = found["items"]
    assert item["registration_id"] == saved["registration_id"] and item["name"] == "廖**" and item["id_number"] == "330*************24"
    response = await client.post(path, json=body, headers=support)
    assert response.status_code == 200 and response.json()["message"] == "重新绑定成功"
    assert (await client.get("/registrations/me", headers=old)).status_code == 404
    assert (await client.get("/registrations/me", headers=new)).json()["registration_id"] == saved["registration_id"]
    assert (await client.get("/home", headers=new)).json()["header_name"] == "廖晓儿"
    assert (await client.get("/home", headers=old)).json()["header_name"] == "未设置"
    (event,) = await world.published("RegistrationRebound")
    assert event["key"] == saved["registration_id"]
    assert event["payload"]["old_passport_id"] == sub(old) and event["payload"]["new_passport_id"] == new_pid
    async with ctx.sessions() as session:
        (audit,) = (await session.execute(select(rebind_audit))).all()
    assert (audit.old_passport_id, audit.new_passport_id, audit.actor_passport_id, audit.reason) == (sub(old), new_pid, agent_pid, body["reason"])
    assert audit.rebound_at == ctx.clock.now()


async def test_e12_rebinding_refuses_bad_targets_and_changes_nothing(world, client, ctx, tokens):
    await world.publish_session()
    _, liao = await world.bound(world.LIAO)
    other, _ = await world.bound(world.LI_BO)
    support = tokens.headers(None, "support")
    path = f"/support/registrations/{liao['registration_id']}/rebind"
    bad_id = await client.post(path, json={"new_passport_id": "not-a-passport", "reason": "x"}, headers=support)
    assert bad_id.status_code == 422 and bad_id.json()["code"] == "passport_id_invalid"
    taken = await client.post(path, json={"new_passport_id": sub(other), "reason": "x"}, headers=support)
    assert taken.status_code == 409 and taken.json()["code"] == "target_account_bound"
    missing = await client.post(
        f"/support/registrations/{uuid.uuid4()}/rebind", json={"new_passport_id": world.new_passport_id(), "reason": "x"}, headers=support
    )
    assert missing.status_code == 404
    no_reason = await client.post(path, json={"new_passport_id": world.new_passport_id()}, headers=support)
    assert no_reason.status_code == 422
    assert await world.published("RegistrationRebound") == []
    async with ctx.sessions() as session:
        assert (await session.execute(select(rebind_audit))).all() == []
