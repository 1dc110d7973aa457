"""Issue 15 in eligibility: CET6 review decisions, rebinding and registry imports leave an audit
row (who, role, address, request id, before/after) in the same transaction; the review decisions
export is streamed CSV with a BOM, filtered and scoped to the exporter (E10, E12, E13)."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from cet_shared.audit import audit_log
from cet_shared.csv_export import BOM
from cet_shared.db.migrations import upgrade
from cet_shared.testing import throwaway_database
from eligibility.cli import ADMIN
from eligibility.service.registry import import_scores

SCORES = """ticket_number,id_number,name,score,year,half
991010161100105,110101199003070011,廖晓儿,500,2016,1
"""


def rows_of(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM.encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix(BOM))))


async def pending_review(world, client) -> tuple[dict, str]:
    await import_scores(world.ctx.unit_of_work(), world.ctx.clock, SCORES)
    await world.publish_session()
    headers, _ = await world.bound(world.LIAO)
    response = await client.post("/cet6-review", json={**world.LIAO, "ticket_number": "991010161100105", "confirmed": True}, headers=headers)
    assert response.status_code == 201 and response.json()["status"] == "pending"
    return headers, headers["authorization"]


async def test_e10_a_teachers_decision_is_audited_and_exported_for_their_school_only(world, client, tokens) -> None:
    await pending_review(world, client)
    teacher_id = world.new_passport_id()
    teacher = tokens.headers(teacher_id, "teacher", school_code="99101")
    (item,) = (await client.get("/teacher/cet6-reviews?status=pending", headers=teacher)).json()["items"]
    decided = await client.post(
        f"/teacher/cet6-reviews/{item['id']}/approve", json={"note": "已核对证明"}, headers={**teacher, "x-request-id": "approve-request-01"}
    )
    assert decided.status_code == 200, decided.text

    (row,) = (await client.get("/ops/audit", params={"kind": "review.decided"}, headers=teacher)).json()["items"]
    assert (row["actor_id"], row["actor_role"], row["address"], row["request_id"]) == (teacher_id, "teacher", "203.0.113.7", "approve-request-01")
    assert row["before"] == {"status": "pending"} and row["after"]["status"] == "approved" and row["after"]["note"] == "已核对证明"
    assert (row["subject_type"], row["subject_id"], row["school_code"]) == ("cet6_review", item["id"], "99101")
    ops = tokens.headers(None, "ops")
    by_actor = (await client.get("/ops/audit", params={"actor": teacher_id}, headers=ops)).json()["items"]
    assert [r["kind"] for r in by_actor] == ["review.decided"]
    assert (await client.get("/ops/audit", params={"since": row["at"], "until": row["at"]}, headers=ops)).json()["code"] == "invalid_time_range"

    exported = await client.get("/exports/reviews", headers=teacher)
    assert exported.status_code == 200 and exported.headers["content-disposition"] == 'attachment; filename="reviews-99101.csv"'
    table = rows_of(exported.content)
    assert table[0][:4] == ["省份代码", "学校代码", "申请号", "姓名"]
    assert [(r[1], r[3], r[4], r[5], r[10]) for r in table[1:]] == [("99101", "廖晓儿", "330*************24", "复核通过", "已核对证明")]
    assert len(rows_of((await client.get("/exports/reviews", params={"status": "pending"}, headers=ops)).content)) == 1
    other = tokens.headers(None, "teacher", school_code="99301")
    assert rows_of((await client.get("/exports/reviews", headers=other)).content)[1:] == [], "another school's teacher sees none"
    refused = await client.get("/exports/reviews", params={"school": "99101"}, headers=other)
    assert refused.status_code == 403 and refused.json()["code"] == "out_of_scope"
    assert (await client.get("/exports/reviews", headers=tokens.headers(None, "candidate"))).status_code == 403


async def test_e12_rebinding_is_audited_beside_rebind_audit_and_e13_imports_too(world, client, ctx, tokens) -> None:
    await world.publish_session()
    _, saved = await world.bound(world.LIAO)
    agent = world.new_passport_id()
    new_pid = world.new_passport_id()
    body = {"new_passport_id": new_pid, "reason": "已核实身份"}
    response = await client.post(f"/support/registrations/{saved['registration_id']}/rebind", json=body, headers=tokens.headers(agent, "support"))
    assert response.status_code == 200
    async with ctx.sessions() as session:
        rows = (await session.execute(select(audit_log).order_by(audit_log.c.id))).mappings().all()
    # The fixture's registry and score imports ran outside a request: the system did them (each
    # import job is audited when its file is received and when it is imported).
    kinds = ["registry.import_received", "registry.imported", "scores.import_received", "scores.imported"]
    assert [(r["kind"], r["actor_id"]) for r in rows] == [*((k, "system") for k in kinds), ("registration.rebound", agent)]
    rebound = rows[-1]
    assert rebound["after"] == {"passport_id": new_pid, "reason": "已核实身份"} and rebound["candidate"] == new_pid and rebound["actor_role"] == "support"
    assert (await client.get("/ops/audit", headers=tokens.headers(agent, "support"))).status_code == 403, "support does not read the trail"


async def test_audit_rows_cannot_be_changed_or_removed(world, ctx) -> None:
    async with ctx.engine.connect() as connection:
        for statement in ("UPDATE audit_log SET after = NULL", "DELETE FROM audit_log WHERE kind = 'registry.imported'"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with connection.begin():
                    await connection.execute(text(statement))
        assert await connection.scalar(text("SELECT count(*) FROM audit_log WHERE after IS NOT NULL")) == 4, "two per import: received, imported"


async def test_e12_the_migration_carries_the_earlier_rebind_audit_rows_into_the_trail() -> None:
    """A database rebinding before the audit trail existed keeps that history in audit_log."""
    async with throwaway_database("eligibility_au01") as url:
        await asyncio.to_thread(upgrade, url, ADMIN.migrations, "0001")
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO rebind_audit (registration_id, old_passport_id, new_passport_id, actor_passport_id, reason, rebound_at) "
                        "VALUES ('7d1f0e4e-0000-4000-8000-000000000001', 'OLD', 'NEW', 'AGENT', '核实身份', '2017-03-01T09:00:00+08:00')"
                    )
                )
            await asyncio.to_thread(upgrade, url, ADMIN.migrations)
            async with engine.connect() as connection:
                (row,) = (await connection.execute(select(audit_log))).mappings().all()
        finally:
            await engine.dispose()
    assert (row["kind"], row["actor_id"], row["actor_role"], row["subject_id"]) == (
        "registration.rebound",
        "AGENT",
        "support",
        "7d1f0e4e-0000-4000-8000-000000000001",
    )
    assert row["before"] == {"passport_id": "OLD"} and row["after"] == {"passport_id": "NEW", "reason": "核实身份"}
