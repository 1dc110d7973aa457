"""Staff accounts from the console (issue 15, point 1): operations create, disable and re-enable
staff of every role and mail them a link to set their password, and see their last log-in; a
province administrator manages the teachers of their province's schools and nothing else (an
account outside the caller's scope is 404, making one there 403)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import text

NEW_PASSWORD = "Teach-2026x"


def _headers(ctx, *roles: str, passport_id: str | None = None, school: str | None = None, province: str | None = None) -> dict[str, str]:
    token = ctx.signer.issue(
        passport_id=passport_id or uuid.uuid4().hex.upper(),
        roles=list(roles),
        token_version=0,
        school_code=school,
        province_code=province,
        now=ctx.clock.now(),
    )
    return {"authorization": f"Bearer {token}"}


async def _rows(ctx, sql: str, **params) -> list:
    async with ctx.engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def _link_token(ctx, email: str) -> str:
    (body,), *_ = await _rows(ctx, "SELECT body FROM mail_queue WHERE to_address = :e ORDER BY id DESC LIMIT 1", e=email)
    return re.search(r"token=([\w-]+)", body).group(1)


async def test_ops_create_a_teacher_who_sets_a_password_by_mail_and_logs_in_with_totp(api, client, ctx) -> None:
    ops = _headers(ctx, "ops")
    created = await client.post("/staff/accounts", json={"email": "wang.99101@example.com", "role": "teacher", "school_code": "99101"}, headers=ops)
    assert created.status_code == 201, created.text
    teacher_id = created.json()["passport_id"]
    ((subject, body),) = await _rows(ctx, "SELECT subject, body FROM mail_queue WHERE to_address = 'wang.99101@example.com'")
    assert "设置密码" in subject and "http://campus.cet.test/password/reset?token=" in body and "https://cet.test/password/reset?token=" in body
    # Nobody knows the password yet: neither the log-in nor ops can use one.
    assert (
        await client.post("/staff/sessions", json={"email": "wang.99101@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})
    ).status_code == 401

    token = await _link_token(ctx, "wang.99101@example.com")
    reset = await client.post(
        "/password/reset", json={"token": token, "email": "wang.99101@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text
    began = (await client.post("/staff/sessions", json={"email": "wang.99101@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})).json()
    done = await client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": pyotp.TOTP(began["secret"]).at(ctx.clock.now())})
    assert done.status_code == 200, done.text

    listed = {a["passport_id"]: a for a in (await client.get("/staff/accounts", headers=ops)).json()}
    row = listed[teacher_id]
    assert (row["role"], row["school_code"], row["province_code"], row["disabled"], row["second_factor"]) == ("teacher", "99101", "99", False, True)
    assert datetime.fromisoformat(row["last_login_at"]) == ctx.clock.now().astimezone(UTC)
    assert row["last_login_address"] == "203.0.113.7"


async def test_disabling_ends_sessions_and_log_ins_until_re_enabled(api, client, ctx) -> None:
    ops = _headers(ctx, "ops")
    created = await client.post("/staff/accounts", json={"email": "help.cet@example.com", "role": "support"}, headers=ops)
    helper_id = created.json()["passport_id"]
    token = await _link_token(ctx, "help.cet@example.com")
    await client.post("/password/reset", json={"token": token, "email": "help.cet@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    began = (await client.post("/staff/sessions", json={"email": "help.cet@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})).json()
    session = (
        await client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": pyotp.TOTP(began["secret"]).at(ctx.clock.now())})
    ).json()
    own = {"authorization": f"Bearer {session['access_token']}"}
    assert (await client.get("/me", headers=own)).status_code == 200

    disabled = await client.post(f"/staff/accounts/{helper_id}/disable", headers=ops)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert (await client.get("/me", headers=own)).status_code == 401  # the session ended at once
    # Setting the password bumped the version 0→1, disabling 1→2: each published as SessionsRevoked to every service.
    revoked = await _rows(ctx, "SELECT token_version_below FROM token_revocations WHERE passport_id = :p ORDER BY token_version_below", p=helper_id)
    assert revoked == [(1,), (2,)]
    refused = await client.post("/staff/sessions", json={"email": "help.cet@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"

    enabled = await client.post(f"/staff/accounts/{helper_id}/enable", headers=ops)
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    again = await client.post("/staff/sessions", json={"email": "help.cet@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})
    assert again.status_code == 200 and again.json()["second_factor"] == "totp"
    # Each staff act is audited under the account it changed, with the acting staff member (the log-in by the helper themselves).
    acts = await _rows(ctx, "SELECT kind, actor_role FROM audit_log WHERE subject_id = :p ORDER BY id", p=helper_id)
    assert acts == [("staff.created", "ops"), ("staff.logged_in", "support"), ("staff.disabled", "ops"), ("staff.enabled", "ops")]

    # Ops reset a password by mail: a second link, the old password works until it is used.
    assert (await client.post(f"/staff/accounts/{helper_id}/password-link", headers=ops)).status_code == 202
    assert (await _rows(ctx, "SELECT count(*) FROM mail_queue WHERE to_address = 'help.cet@example.com'"))[0][0] == 2
    # Nobody locks themselves out; an unknown account is 404.
    boss = (await client.post("/staff/accounts", json={"email": "boss.cet@example.com", "role": "ops"}, headers=ops)).json()["passport_id"]
    self_disable = await client.post(f"/staff/accounts/{boss}/disable", headers=_headers(ctx, "ops", passport_id=boss))
    assert self_disable.status_code == 409 and self_disable.json()["code"] == "staff_self_disable"
    assert (await client.post(f"/staff/accounts/{uuid.uuid4().hex.upper()}/disable", headers=ops)).status_code == 404


async def test_ops_reset_a_lost_second_factor_and_the_next_log_in_enrols_afresh(api, client, ctx) -> None:
    ops = _headers(ctx, "ops")
    helper_id = (await client.post("/staff/accounts", json={"email": "lost.cet@example.com", "role": "support"}, headers=ops)).json()["passport_id"]
    token = await _link_token(ctx, "lost.cet@example.com")
    await client.post("/password/reset", json={"token": token, "email": "lost.cet@example.com", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    began = (await client.post("/staff/sessions", json={"email": "lost.cet@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})).json()
    done = (
        await client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": pyotp.TOTP(began["secret"]).at(ctx.clock.now())})
    ).json()
    own = {"authorization": f"Bearer {done['access_token']}"}

    reset = await client.post(f"/staff/accounts/{helper_id}/second-factor-reset", headers=ops)
    assert reset.status_code == 200 and reset.json()["second_factor"] is False
    assert (await client.get("/me", headers=own)).status_code == 401  # what the old factor opened ends now
    assert (await _rows(ctx, "SELECT count(*) FROM staff_recovery_codes WHERE passport_id = :p", p=helper_id))[0][0] == 0
    again = (await client.post("/staff/sessions", json={"email": "lost.cet@example.com", "password": NEW_PASSWORD, **api.captchas.solved()})).json()
    assert again["second_factor"] == "enrol" and again["secret"] != began["secret"]
    old_code = await client.post("/staff/sessions/second-factor", json={"challenge": again["challenge"], "recovery_code": done["recovery_codes"][0]})
    assert old_code.status_code == 401
    ctx.clock.advance(timedelta(seconds=30))
    old_seed = await client.post(
        "/staff/sessions/second-factor", json={"challenge": again["challenge"], "code": pyotp.TOTP(began["secret"]).at(ctx.clock.now())}
    )
    assert old_seed.status_code == 401, "the lost phone's seed no longer works"


async def test_a_province_administrator_manages_only_the_teachers_of_their_province(client, ctx) -> None:
    ops = _headers(ctx, "ops")
    ours = (await client.post("/staff/accounts", json={"email": "t1.99301@example.com", "role": "teacher", "school_code": "99301"}, headers=ops)).json()[
        "passport_id"
    ]
    theirs = (await client.post("/staff/accounts", json={"email": "t1.11001@example.com", "role": "teacher", "school_code": "11001"}, headers=ops)).json()[
        "passport_id"
    ]
    helper = (await client.post("/staff/accounts", json={"email": "s.cet@example.com", "role": "support"}, headers=ops)).json()["passport_id"]
    made = await client.post("/staff/accounts", json={"email": "admin.99@example.com", "role": "province_admin", "province_code": "99"}, headers=ops)
    assert made.status_code == 201, made.text
    admin = _headers(ctx, "province_admin", passport_id=made.json()["passport_id"], province="99")

    assert [a["passport_id"] for a in (await client.get("/staff/accounts", headers=admin)).json()] == [ours]
    created = await client.post("/staff/accounts", json={"email": "t2.99101@example.com", "role": "teacher", "school_code": "99101"}, headers=admin)
    assert created.status_code == 201
    assert (await client.post(f"/staff/accounts/{ours}/disable", headers=admin)).json()["disabled"] is True

    # Making staff outside the province, or of another role: 403; acting on them: 404, as for a missing account.
    for body in (
        {"email": "t3.11001@example.com", "role": "teacher", "school_code": "11001"},
        {"email": "s2.cet@example.com", "role": "support"},
        {"email": "p.98@example.com", "role": "province_admin", "province_code": "98"},
    ):
        refused = await client.post("/staff/accounts", json=body, headers=admin)
        assert refused.status_code == 403 and refused.json()["code"] == "staff_out_of_scope", body
    for target in (theirs, helper, made.json()["passport_id"]):
        for action in ("disable", "enable", "password-link"):
            hidden = await client.post(f"/staff/accounts/{target}/{action}", headers=admin)
            assert hidden.status_code == 404 and hidden.json()["code"] == "staff_not_found", (target, action)
    assert (await _rows(ctx, "SELECT count(*) FROM accounts WHERE email IN ('t3.11001@example.com', 's2.cet@example.com', 'p.98@example.com')"))[0][0] == 0

    # Nobody else manages staff; a teacher, support, a candidate or a province admin without a province: 403.
    for roles, province in ((("teacher",), None), (("support",), None), (("candidate",), None), (("province_admin",), None)):
        assert (await client.get("/staff/accounts", headers=_headers(ctx, *roles, school="99301", province=province))).status_code == 403


async def test_bad_staff_input_is_refused_in_chinese_and_changes_nothing(client, ctx) -> None:
    ops = _headers(ctx, "ops")
    for body in (
        {"email": "x.cet@example.com", "role": "teacher"},  # a teacher needs a school
        {"email": "x.cet@example.com", "role": "province_admin"},  # an administrator a province
        {"email": "x.cet@example.com", "role": "candidate"},
        {"email": "x.cet@example.com", "role": "teacher", "school_code": "9910"},
        {"email": "not-an-email", "role": "support"},
        {"email": "x.cet@example.com", "role": "support", "roles": ["ops"]},
    ):
        refused = await client.post("/staff/accounts", json=body, headers=ops)
        assert refused.status_code == 422, (body, refused.text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["title"])
    for bad_id in ("not-a-passport-id", "a" * 32, "%00" * 32):
        assert (await client.post(f"/staff/accounts/{bad_id}/disable", headers=ops)).status_code == 422
    await client.post("/staff/accounts", json={"email": "dup.cet@example.com", "role": "support"}, headers=ops)
    duplicate = await client.post("/staff/accounts", json={"email": "DUP.cet@Example.com", "role": "ops"}, headers=ops)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "email_taken"
    assert (await _rows(ctx, "SELECT count(*) FROM accounts"))[0][0] == 1
