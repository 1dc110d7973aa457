"""Issue 15 in passport: staff account changes are in the audit trail, which operations read
whole and a teacher only for their own school."""

from __future__ import annotations

from passport.domain.accounts import staff_roles
from passport.service.registration import create_staff


def _bearer(ctx, passport_id: str, role: str, school: str | None = None) -> dict[str, str]:
    token = ctx.signer.issue(passport_id=passport_id, roles=[role], token_version=0, school_code=school, now=ctx.clock.now())
    return {"authorization": f"Bearer {token}"}


async def _create(ctx, email: str, password: str, role: str, school: str | None) -> str:
    return await create_staff(
        ctx.unit_of_work(), email=email, password=password, roles=staff_roles({role}), school_code=school, passwords=ctx.passwords, clock=ctx.clock
    )


async def test_staff_accounts_created_are_audited_and_readable_by_scope(client, ctx) -> None:
    ops_id = await _create(ctx, "ops@cet.test", "Helpdesk-2017x", "ops", None)
    teacher_id = await _create(ctx, "teacher@99101.test", "Teach-2017x", "teacher", "99101")
    ops = _bearer(ctx, ops_id, "ops")
    page = (await client.get("/ops/audit", params={"kind": "staff.created"}, headers=ops)).json()
    assert [(r["subject_id"], r["after"], r["actor_id"]) for r in page["items"]] == [
        (teacher_id, {"roles": ["teacher"], "school_code": "99101"}, "system"),  # the passport-admin command: no token behind it
        (ops_id, {"roles": ["ops"], "school_code": None}, "system"),
    ]
    teacher = _bearer(ctx, teacher_id, "teacher", "99101")
    mine = (await client.get("/ops/audit", headers=teacher)).json()["items"]
    assert [r["subject_id"] for r in mine] == [teacher_id], "a teacher reads their school's rows only"
    assert (await client.get("/ops/audit", params={"school": "99102"}, headers=teacher)).json()["code"] == "out_of_scope"
