"""Staff accounts (teacher scoped to a school, support, ops) are passport accounts with roles,
created by an operations command; candidates can never give themselves a role."""

from __future__ import annotations

import jwt
import pyotp
import pytest

from cet_shared.problems import Problem
from passport.domain.accounts import staff_roles
from passport.service import registration


async def create_staff(ctx, **account):
    return await registration.create_staff(ctx.unit_of_work(), passwords=ctx.passwords, clock=ctx.clock, **account)


async def test_ops_command_creates_a_teacher_whose_token_carries_the_school(api, client, ctx):
    await create_staff(ctx, email="teacher@99101.test", password="Teach-2017x", roles=staff_roles({"teacher"}), school_code="99101")
    began = (await client.post("/staff/sessions", json={"email": "teacher@99101.test", "password": "Teach-2017x", **api.captchas.solved()})).json()
    code = pyotp.TOTP(began["secret"]).at(ctx.clock.now())  # staff log in with a second factor (issue 15)
    token = (await client.post("/staff/sessions/second-factor", json={"challenge": began["challenge"], "code": code})).json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["roles"] == ["teacher"] and claims["school"] == "99101"


async def test_teachers_need_a_school_and_roles_are_a_closed_set(ctx):
    with pytest.raises(Problem) as missing_school:
        await create_staff(ctx, email="nobody-in-particular@x.test", password="Teach-2017x", roles=staff_roles({"teacher"}), school_code=None)
    assert missing_school.value.code == "school_code_required"
    for bad in ({"candidate"}, {"admin"}, set()):
        with pytest.raises(ValueError):
            staff_roles(bad)


async def test_registration_cannot_ask_for_a_role(api, client):
    response = await client.post(
        "/accounts", json={"email": "x@example.com", "password": "Cet2017-pass", "confirm_password": "Cet2017-pass", "roles": ["ops"], **api.captchas.solved()}
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"


def test_cli_reads_the_password_from_an_environment_variable(monkeypatch, settings, ctx, capsys):
    from passport import cli

    monkeypatch.setenv("DATABASE_URL_PASSPORT", settings.database_url)
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", settings.jwt_private_key_file)
    monkeypatch.setenv("STAFF_PASSWORD", "Helpdesk-2017x")
    assert cli.main(["create-staff", "--email", "support@cet.test", "--role", "support", "--password-env", "STAFF_PASSWORD"]) == 0
    passport_id = capsys.readouterr().out.strip()
    assert len(passport_id) == 32
    monkeypatch.setenv("STAFF_PASSWORD", "weak")
    assert cli.main(["create-staff", "--email", "ops@cet.test", "--role", "ops", "--password-env", "STAFF_PASSWORD"]) == 1
