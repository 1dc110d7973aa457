"""Issue 15 in passport: staff account changes are in the audit trail, which operations read
whole and a teacher only for their own school."""

from __future__ import annotations

from passport.domain.accounts import staff_roles
from passport.service.accounts import create_staff


async def test_staff_accounts_created_are_audited_and_readable_by_scope(api, client, ctx):
    ops_id = await create_staff(ctx, email="ops@cet.test", password="Helpdesk-2017x", roles=staff_roles({"ops"}), school_code=None)
    teacher_id = await create_staff(ctx, email="teacher@99101.test", password="Teach-2017x", roles=staff_roles({"teacher"}), school_code="99101")
    ops = {"authorization": f"Bearer {(await api.log_in('ops@cet.test', 'Helpdesk-2017x')).json()['access_token']}"}
    page = (await client.get("/ops/audit", params={"kind": "staff.created"}, headers=ops)).json()
    assert [(r["subject_id"], r["after"], r["actor_id"]) for r in page["items"]] == [
        (teacher_id, {"roles": ["teacher"], "school_code": "99101"}, "system"),  # the passport-admin command: no token behind it
        (ops_id, {"roles": ["ops"], "school_code": None}, "system"),
    ]
    teacher = {"authorization": f"Bearer {(await api.log_in('teacher@99101.test', 'Teach-2017x')).json()['access_token']}"}
    mine = (await client.get("/ops/audit", headers=teacher)).json()["items"]
    assert [r["subject_id"] for r in mine] == [teacher_id], "a teacher reads their school's rows only"
    assert (await client.get("/ops/audit", params={"school": "99102"}, headers=teacher)).json()["code"] == "out_of_scope"
