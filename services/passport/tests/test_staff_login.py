"""Staff log in with a second factor (issue 15, point 1): the password, then a TOTP code; the
first log-in enrols an authenticator (QR / otpauth URI) and hands out recovery codes, stored
hashed; a code works once; staff sessions are shorter than candidates'; the candidate log-in
refuses staff accounts, so the second factor cannot be skipped."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pyotp
from sqlalchemy import text

from passport.domain.accounts import staff_roles
from passport.domain.totp import hash_recovery_code
from passport.service.registration import create_staff

PASSWORD = "Teach-2017x"


async def _teacher(ctx) -> str:
    return await create_staff(
        ctx.unit_of_work(),
        email="teacher@99101.test",
        password=PASSWORD,
        roles=staff_roles({"teacher"}),
        school_code="99101",
        passwords=ctx.passwords,
        clock=ctx.clock,
    )


async def _begin(api, email: str = "teacher@99101.test", password: str = PASSWORD):
    return await api.client.post("/staff/sessions", json={"email": email, "password": password, **api.captchas.solved()})


def _code(ctx, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(ctx.clock.now() + timedelta(seconds=30 * steps))


async def _scalar(ctx, sql: str, **params):
    async with ctx.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar()


async def test_first_log_in_enrols_totp_and_returns_recovery_codes_stored_hashed(api, ctx) -> None:
    passport_id = await _teacher(ctx)
    began = await _begin(api)
    assert began.status_code == 200, began.text
    body = began.json()
    assert body["second_factor"] == "enrol" and began.headers["cache-control"] == "no-store"
    uri = urlsplit(body["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp" and parse_qs(uri.query)["secret"] == [body["secret"]]
    assert body["qr_svg"].startswith("data:image/svg+xml")

    for wrong_code in ("000000", "١٢٣٤٥٦"):  # a wrong code, and digits that are not ASCII
        wrong = await api.client.post("/staff/sessions/second-factor", json={"challenge": body["challenge"], "code": wrong_code})
        assert wrong.status_code == 401 and wrong.json()["code"] == "second_factor_invalid"
    done = await api.client.post("/staff/sessions/second-factor", json={"challenge": body["challenge"], "code": _code(ctx, body["secret"])})
    assert done.status_code == 200, done.text
    logged = done.json()
    claims = jwt.decode(logged["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["teacher"] and claims["school"] == "99101" and claims["province"] == "99"
    # Staff sessions are shorter than candidates' (a setting each).
    # A candidate's session lasts the refresh token's lifetime; a staff session ends with its access
    # token (no refresh token: the next one takes the second factor again).
    assert logged["expires_in"] == int(ctx.settings.staff_access_token_lifetime.total_seconds()) < int(ctx.settings.refresh_token_lifetime.total_seconds())
    assert "cet_refresh" not in done.cookies
    assert claims["exp"] - claims["iat"] == logged["expires_in"]
    assert "cet_access" in done.headers["set-cookie"]

    codes = logged["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = await _scalar(ctx, "SELECT array_agg(code_hash) FROM staff_recovery_codes WHERE passport_id = :p", p=passport_id)
    assert sorted(stored) == sorted(hash_recovery_code(c) for c in codes)
    assert not any(c in str(stored) for c in codes)  # only hashes are stored
    assert await _scalar(ctx, "SELECT last_login_address FROM staff_accounts WHERE passport_id = :p", p=passport_id) == "203.0.113.7"

    # The challenge is spent: it gives no second session.
    again = await api.client.post("/staff/sessions/second-factor", json={"challenge": body["challenge"], "code": _code(ctx, body["secret"], 1)})
    assert again.status_code == 401 and again.json()["code"] == "staff_challenge_invalid"


async def _enrolled(api, ctx) -> tuple[str, list[str]]:
    await _teacher(ctx)
    body = (await _begin(api)).json()
    done = await api.client.post("/staff/sessions/second-factor", json={"challenge": body["challenge"], "code": _code(ctx, body["secret"])})
    assert done.status_code == 200, done.text
    return body["secret"], done.json()["recovery_codes"]


async def test_a_code_works_once_and_a_recovery_code_once(api, ctx) -> None:
    secret, codes = await _enrolled(api, ctx)
    began = (await _begin(api)).json()
    assert began["second_factor"] == "totp" and began["secret"] is None and began["otpauth_uri"] is None
    # The code that enrolled is spent (RFC 6238 §5.2): not accepted twice in its 30 seconds.
    replay = await api.client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": _code(ctx, secret)})
    assert replay.status_code == 401
    ctx.clock.advance(timedelta(seconds=30))
    fresh = await api.client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": _code(ctx, secret)})
    assert fresh.status_code == 200 and fresh.json()["recovery_codes"] is None

    lost_phone = (await _begin(api)).json()
    used = await api.client.post("/staff/sessions/second-factor", json={"challenge": lost_phone["challenge"], "recovery_code": codes[0].lower()})
    assert used.status_code == 200, used.text
    twice = (await _begin(api)).json()
    refused = await api.client.post("/staff/sessions/second-factor", json={"challenge": twice["challenge"], "recovery_code": codes[0]})
    assert refused.status_code == 401 and refused.json()["code"] == "second_factor_invalid"


async def test_wrong_codes_burn_the_challenge_and_it_expires(api, ctx) -> None:
    secret, _ = await _enrolled(api, ctx)
    ctx.clock.advance(timedelta(seconds=30))
    began = (await _begin(api)).json()
    for _ in range(ctx.settings.staff_login_challenge_failures):
        wrong = await api.client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": "123456"})
        assert wrong.status_code == 401
    burnt = await api.client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": _code(ctx, secret)})
    assert burnt.status_code == 401 and burnt.json()["code"] == "staff_challenge_invalid"

    late = (await _begin(api)).json()
    ctx.clock.advance(ctx.settings.staff_login_challenge_lifetime + timedelta(seconds=1))
    expired = await api.client.post("/staff/sessions/second-factor", json={"challenge": late["challenge"], "code": _code(ctx, secret)})
    assert expired.status_code == 401 and expired.json()["code"] == "staff_challenge_invalid"


async def test_the_candidate_log_in_refuses_staff_and_the_staff_log_in_refuses_candidates(api, ctx) -> None:
    await _teacher(ctx)
    skipped = await api.log_in("teacher@99101.test", PASSWORD)
    assert skipped.status_code == 403 and skipped.json()["code"] == "second_factor_required"
    assert "access_token" not in skipped.json() and "cet_access" not in skipped.headers.get("set-cookie", "")
    # A wrong password stays the generic answer: the refusal above tells nothing without the password.
    assert (await api.log_in("teacher@99101.test", "Wrong-2017x")).status_code == 401

    await api.register("candidate@example.com")
    candidate = await _begin(api, "candidate@example.com", "Cet2017-pass")
    assert candidate.status_code == 401 and candidate.json()["code"] == "invalid_credentials"
    unknown = await _begin(api, "nobody@example.com", PASSWORD)
    assert unknown.status_code == 401 and unknown.json()["code"] == "invalid_credentials"


async def test_bad_second_factor_bodies_are_chinese_problems(api, ctx) -> None:
    for body in (
        {"challenge": "x" * 43},
        {"challenge": "x" * 43, "code": "123456", "recovery_code": "AAAA-BBBB-CCCC"},
        {"challenge": "short", "code": "123456"},
    ):
        refused = await api.client.post("/staff/sessions/second-factor", json=body)
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["title"])
