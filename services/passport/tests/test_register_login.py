"""P1 register, P2 log in, P3 captcha — through the API on a real PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
from sqlalchemy import select

from passport.db.tables import accounts, mail_queue

GOOD_PASSWORD = "Cet2017-pass"


async def test_p1_register_creates_a_32_hex_passport_id(api, client, captchas, ctx):
    response = await api.register(name="廖晓儿", id_type="resident_id_card", id_number="110105199001011234", phone="13800000000")
    assert response.status_code == 202, response.text
    assert "passport_id" not in response.json(), "shown on the account page after logging in"
    me = await client.get("/me", headers=await api.bearer())
    passport_id = me.json()["passport_id"]
    assert re.fullmatch(r"[0-9A-F]{32}", passport_id)
    async with ctx.sessions() as session:
        row = (await session.execute(select(accounts).where(accounts.c.passport_id == passport_id))).one()
    assert row.name == "廖晓儿" and row.id_type == "resident_id_card"
    assert row.password_hash.startswith("$argon2id$"), "P1: passwords are stored as argon2id hashes"


async def test_p1_email_is_unique_case_insensitively_without_revealing_it(api, client, captchas, ctx):
    first = await api.register(email="Li.Bo@Example.com")
    again = await api.register(email="li.bo@example.COM", password="Other-pass-99")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json(), "no answer reveals whether an email has an account"
    async with ctx.sessions() as session:
        assert len((await session.execute(select(accounts))).all()) == 1
    assert (await api.log_in(email="li.bo@example.com", password="Other-pass-99")).status_code == 401, "the second registration changed nothing"
    async with ctx.sessions() as session:
        notices = (await session.execute(select(mail_queue.c.subject).where(mail_queue.c.to_address == "Li.Bo@example.com"))).scalars().all()
    assert "CET报名网 通行证注册提醒" in notices, "the owner is told instead"


async def test_p1_passwords_must_match_and_be_strong(api, client, captchas):
    mismatch = await client.post(
        "/accounts", json={"email": "a@example.com", "password": GOOD_PASSWORD, "confirm_password": GOOD_PASSWORD + "x", **captchas.solved()}
    )
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "password_mismatch"
    weak = await api.register(email="b@example.com", password="12345678")
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    assert weak.json()["title"] == "密码强度不够"


async def test_p1_bad_input_gets_problem_json_and_changes_nothing(api, client, captchas, ctx):
    cases = [
        (b"{not json", {"content-type": "application/json"}),
        (b'{"email": 12, "password": [], "confirm_password": null}', {"content-type": "application/json"}),
        (
            ('{"email": "' + "x" * 300 + '@example.com", "password": "a", "confirm_password": "a", "captcha_token": "t", "captcha_answer": "a"}').encode(),
            {"content-type": "application/json"},
        ),
        (
            b'{"email": "not-an-email", "password": "Cet2017-pass", "confirm_password": "Cet2017-pass", "captcha_token": "t", "captcha_answer": "a"}',
            {"content-type": "application/json"},
        ),
    ]
    for body, headers in cases:
        response = await client.post("/accounts", content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "invalid_request" and response.json()["title"]
    military = await api.register(email="c@example.com", id_type="军官证", id_number="12345678")
    assert military.status_code == 422 and military.json()["code"] == "id_type_not_supported"
    async with ctx.sessions() as session:
        assert (await session.execute(select(accounts))).first() is None


async def test_p3_captcha_endpoint_gives_an_image_and_a_sealed_token(client):
    response = await client.get("/captcha")
    assert response.status_code == 200
    body = response.json()
    assert body["image"].startswith("data:image/png;base64,")
    assert len(body["image"]) > 1000
    assert body["expires_in"] == 300
    assert response.headers["cache-control"] == "no-store"


async def test_p3_captcha_is_single_use_case_insensitive_and_expires(client, captchas, ctx):
    solved = captchas.solved("AB3D")
    body = {"email": "d@example.com", "password": GOOD_PASSWORD, "confirm_password": GOOD_PASSWORD}
    lower = await client.post("/accounts", json={**body, "captcha_token": solved["captcha_token"], "captcha_answer": "ab3d"})
    assert lower.status_code == 202, "P3: answers are case-insensitive"
    reused = await client.post("/accounts", json={**body, "email": "e@example.com", **solved})
    assert reused.status_code == 400 and reused.json()["code"] == "captcha_invalid"
    wrong = await client.post(
        "/accounts", json={**body, "email": "f@example.com", "captcha_token": captchas.solved("AB3D")["captcha_token"], "captcha_answer": "ZZZZ"}
    )
    assert wrong.status_code == 400 and wrong.json()["title"] == "验证码错误或已过期，请重新输入"
    stale = captchas.solved("AB3D")
    ctx.clock.advance(timedelta(minutes=6))
    expired = await client.post("/accounts", json={**body, "email": "g@example.com", **stale})
    assert expired.status_code == 400 and expired.json()["code"] == "captcha_invalid"
    forged = await client.post("/accounts", json={**body, "email": "h@example.com", "captcha_token": "gAAAAAforged", "captcha_answer": "AB3D"})
    assert forged.status_code == 400


async def test_p2_log_in_issues_a_verifiable_token(api, client, captchas, ctx):
    passport_id = await api.signup()
    response = await api.log_in(email="LiaoXiaoer@example.com")
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert "httponly" in response.headers["set-cookie"].lower()
    public = jwt.PyJWK(ctx.signer.jwks()["keys"][0])
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="cet-suite", issuer="cet-passport")
    assert claims["sub"] == passport_id and claims["roles"] == ["candidate"]
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert jwks["keys"][0]["kid"] == jwt.get_unverified_header(token)["kid"]
    assert "d" not in jwks["keys"][0], "the JWKS must never carry the private part"
    me = await client.get("/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["passport_id"] == passport_id


async def test_p2_wrong_email_and_wrong_password_look_the_same(api, client, captchas):
    await api.register()
    wrong_password = await api.log_in(password="Wrong-pass-1")
    unknown_email = await api.log_in(email="nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json() == {**wrong_password.json(), "title": "账号或密码错误", "code": "invalid_credentials"}


async def test_p2_failures_are_throttled_per_account(api, client, captchas):
    await api.register()
    for _ in range(5):
        assert (await api.log_in(password="Wrong-pass-1")).status_code == 401
    throttled = await api.log_in()  # even the right password waits now
    assert throttled.status_code == 429 and throttled.json()["code"] == "too_many_requests"
    assert int(throttled.headers["retry-after"]) > 0


async def test_p2_failures_are_throttled_per_client(api, client, captchas, ctx):
    ctx.settings.login_failures_per_client = 3
    for n in range(3):
        assert (await api.log_in(email=f"guess{n}@example.com")).status_code == 401
    assert (await api.log_in(email="guess9@example.com")).status_code == 429


async def test_p2_tokens_without_valid_signature_are_refused(api, client, captchas):
    await api.register()
    token = (await api.log_in()).json()["access_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"
    for bad in (tampered, "garbage", ""):
        response = await client.get("/me", headers={"authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
