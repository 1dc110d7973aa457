"""P4 password recovery, P5 account page, P6 change email, P7 change password, P8 wrong email."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import func, select

from cet_shared.db.tables import outbox
from passport.db.tables import accounts, link_tokens, mail_queue

GOOD_PASSWORD = "Cet2017-pass"
NEW_PASSWORD = "Brand-new-2024"


async def mails_to(ctx, address: str) -> list:
    async with ctx.sessions() as session:
        return (await session.execute(select(mail_queue).where(mail_queue.c.to_address == address).order_by(mail_queue.c.id))).all()


def token_from(body: str, kind: str = "password/reset") -> str:
    return re.search(kind + r"\?token=([\w-]+)", body).group(1)


async def test_p4_same_answer_whether_or_not_the_account_exists(api, client, captchas, ctx):
    await api.register()
    known = await client.post("/password/recovery", json={"email": "liaoxiaoer@example.com", **captchas.solved()})
    unknown = await client.post("/password/recovery", json={"email": "nobody@example.com", **captchas.solved()})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len([m for m in await mails_to(ctx, "liaoxiaoer@example.com") if "密码找回" in m.subject]) == 1
    assert await mails_to(ctx, "nobody@example.com") == []


async def test_p4_mail_has_two_links_to_one_single_use_token(api, client, captchas, ctx):
    await api.register()
    await client.post("/password/recovery", json={"email": "LIAOXIAOER@example.com", **captchas.solved()})
    mail = [m for m in await mails_to(ctx, "liaoxiaoer@example.com") if "密码找回" in m.subject][0]
    campus = re.search(r"校园网用户：(\S+)", mail.body).group(1)
    public = re.search(r"公网用户：(\S+)", mail.body).group(1)
    assert campus.startswith("http://campus.cet.test/password/reset?token=")
    assert public.startswith("https://cet.test/password/reset?token=")
    token = token_from(campus)
    assert token == token_from(public)
    async with ctx.sessions() as session:
        stored = (await session.execute(select(link_tokens.c.token_hash))).scalars().all()
    assert token not in stored, "only the token's hash is stored"

    old_session = await api.bearer()
    reset = {"token": token, "email": "liaoxiaoer@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    done = await client.post("/password/reset", json=reset)
    assert done.status_code == 200 and done.json()["message"] == "修改密码成功"
    again = await client.post("/password/reset", json=reset)
    assert again.status_code == 400 and again.json()["code"] == "link_invalid"
    # Older sessions stop working; the new password works, the old one does not.
    expired = await client.get("/me", headers=old_session)
    assert expired.status_code == 401 and expired.json()["code"] == "session_expired"
    assert (await api.log_in(password="Cet2017-pass")).status_code == 401
    assert (await api.log_in(password=NEW_PASSWORD)).status_code == 200


async def test_p4_reset_link_expires_and_checks_the_email(api, client, captchas, ctx):
    await api.register()
    await client.post("/password/recovery", json={"email": "liaoxiaoer@example.com", **captchas.solved()})
    token = token_from([m for m in await mails_to(ctx, "liaoxiaoer@example.com") if "密码找回" in m.subject][0].body)
    wrong_email = await client.post(
        "/password/reset", json={"token": token, "email": "other@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert wrong_email.status_code == 400 and wrong_email.json()["code"] == "reset_email_mismatch"
    mismatch = await client.post(
        "/password/reset", json={"token": token, "email": "liaoxiaoer@example.com", "password": NEW_PASSWORD, "confirm_password": "different-9X"}
    )
    assert mismatch.status_code == 422
    ctx.clock.advance(ctx.settings.reset_link_lifetime + timedelta(seconds=1))
    late = await client.post(
        "/password/reset", json={"token": token, "email": "liaoxiaoer@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert late.status_code == 400 and late.json()["code"] == "link_invalid"
    assert (await api.log_in()).status_code == 200, "nothing changed"


async def test_p4_a_reset_link_used_twice_at_once_works_once(api, client, captchas, ctx):
    await api.register()
    await client.post("/password/recovery", json={"email": "liaoxiaoer@example.com", **captchas.solved()})
    token = token_from([m for m in await mails_to(ctx, "liaoxiaoer@example.com") if "密码找回" in m.subject][0].body)
    body = {"token": token, "email": "liaoxiaoer@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    results = await asyncio.gather(*(client.post("/password/reset", json=body) for _ in range(5)))
    assert sorted(r.status_code for r in results) == [200, 400, 400, 400, 400]


async def test_p4_recovery_requests_are_rate_limited_per_client(client, captchas, ctx):
    ctx.settings.recovery_requests_per_client = 3
    for _ in range(3):
        assert (await client.post("/password/recovery", json={"email": "x@example.com", **captchas.solved()})).status_code == 202
    limited = await client.post("/password/recovery", json={"email": "x@example.com", **captchas.solved()})
    assert limited.status_code == 429


async def test_p5_account_page_shows_the_profile_and_verify_link(api, client, captchas, ctx):
    passport_id = await api.signup(name="李博", id_type="passport", id_number="E12345678", phone="13900000000")
    headers = await api.bearer()
    page = (await client.get("/me", headers=headers)).json()
    assert page == {
        "passport_id": passport_id,
        "email": "liaoxiaoer@example.com",
        "email_verified": False,
        "phone": "13900000000",
        "id_type": "passport",
        "id_type_label": "护照",
        "id_number": "E12345678",
        "name": "李博",
        "roles": ["candidate"],
        "school_code": None,
    }
    verify_mail = [m for m in await mails_to(ctx, "liaoxiaoer@example.com") if "邮箱验证" in m.subject][0]
    verified = await client.post("/email/verify", json={"token": token_from(verify_mail.body, "email/verify")})
    assert verified.status_code == 200
    assert (await client.get("/me", headers=headers)).json()["email_verified"] is True
    edited = await client.put(
        "/me/profile", headers=headers, json={"phone": "13700000000", "id_type": "resident_id_card", "id_number": "110105199001011234", "name": "李博"}
    )
    assert edited.status_code == 200 and edited.json()["message"] == "修改成功"
    assert (await client.get("/me", headers=headers)).json()["id_type_label"] == "中华人民共和国居民身份证"
    assert (await client.get("/me")).status_code == 200, "the portal's HttpOnly cookie carries the session too"
    client.cookies.clear()
    assert (await client.get("/me")).status_code == 401


async def test_p6_change_email_takes_effect_only_after_verification(api, client, captchas, ctx):
    passport_id = await api.signup(email="wrong@exmaple.com")
    headers = await api.bearer(email="wrong@exmaple.com")
    no_captcha = await client.post("/me/email", headers=headers, json={"new_email": "right@example.com", "captcha_token": "x", "captcha_answer": "y"})
    assert no_captcha.status_code == 400
    asked = await client.post("/me/email", headers=headers, json={"new_email": "right@example.com", **captchas.solved()})
    assert asked.status_code == 202
    assert (await client.get("/me", headers=headers)).json()["email"] == "wrong@exmaple.com", "not before the link is followed"
    token = token_from((await mails_to(ctx, "right@example.com"))[0].body, "email/verify")
    assert (await client.post("/email/verify", json={"token": token})).status_code == 200
    page = (await client.get("/me", headers=headers)).json()
    assert page["email"] == "right@example.com" and page["email_verified"] is True and page["passport_id"] == passport_id
    assert (await api.log_in(email="right@example.com")).status_code == 200
    async with ctx.sessions() as session:
        events = (await session.execute(select(outbox.c.event_type, outbox.c.key, outbox.c.envelope).where(outbox.c.event_type == "AccountEmailChanged"))).all()
    assert len(events) == 1 and events[0].key == passport_id and events[0].envelope["payload"]["email"] == "right@example.com"


async def test_p6_cannot_take_another_accounts_email_and_does_not_reveal_it(api, client, captchas, ctx):
    await api.register(email="taken@example.com")
    await api.register(email="me@example.com")
    headers = await api.bearer(email="me@example.com")
    taken = await client.post("/me/email", headers=headers, json={"new_email": "TAKEN@example.com", **captchas.solved()})
    free = await client.post("/me/email", headers=headers, json={"new_email": "free@example.com", **captchas.solved()})
    assert taken.status_code == free.status_code == 202 and taken.json() == free.json()
    assert not [m for m in await mails_to(ctx, "TAKEN@example.com") if "email/verify" in m.body], "no verification link for a taken address"
    assert (await client.get("/me", headers=headers)).json()["email"] == "me@example.com"


async def test_p7_change_password_needs_the_old_one(api, client, captchas):
    await api.register()
    headers = await api.bearer()
    wrong = await client.post(
        "/me/password", headers=headers, json={"old_password": "nope-nope-1", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "old_password_wrong"
    weak = await client.post("/me/password", headers=headers, json={"old_password": "Cet2017-pass", "new_password": "aaaaaaaa", "confirm_password": "aaaaaaaa"})
    assert weak.status_code == 422
    ok = await client.post(
        "/me/password", headers=headers, json={"old_password": "Cet2017-pass", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert ok.status_code == 200 and ok.json()["message"] == "修改密码成功"
    assert (await client.get("/me", headers=headers)).status_code == 401, "the old session ends"
    assert (await api.log_in(password=NEW_PASSWORD)).status_code == 200


async def test_p8_wrong_email_and_forgotten_password_means_a_new_account(api, client, captchas, ctx):
    """P8 (a)/(b): the candidate registers again with the right email and gets a new passport id;
    a support agent then rebinds an already bound registration to it (E12, eligibility)."""
    first = await api.signup(email="typo@exmaple.com")
    second = await api.signup(email="typo@example.com")
    assert first != second
    async with ctx.sessions() as session:
        registered = (await session.execute(select(outbox.c.key).where(outbox.c.event_type == "AccountRegistered"))).scalars().all()
        assert await session.scalar(select(func.count()).select_from(accounts)) == 2
    assert set(registered) == {first, second}, "both accounts are announced so eligibility can recover and rebind"
