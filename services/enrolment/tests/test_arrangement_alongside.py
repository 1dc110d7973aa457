"""N13 at scale, alongside everyone else: while a batch of the arrangement is mid-run, candidates'
payments (Y3, Y4) and teachers' collective locks (N8) on that session go through; the result is
exported as streamed CSV (UTF-8 with BOM) scoped by the exporter's role; start and end audited."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta

from sqlalchemy import text

from cet_shared.csv_export import BOM
from cet_shared.testing import sibling_module, wait_for
from enrolment.service import exports

helpers = sibling_module(__file__, "arrangement_helpers")
DEADLINE = 10.0  # seconds: a write that waits for the arrangement to end would take far longer


async def test_n13_payments_and_teachers_writes_on_the_session_proceed_while_a_batch_is_mid_run(world) -> None:
    await world.open_session()
    paid = await helpers.paid_candidates(world, 7)
    paying = await world.bind(school="99301", campus="993010")
    (unpaid,) = (await paying.written("4")).json()["enrolment_ids"]
    lockable = await world.bind(school="99301", campus="993010")
    (to_lock,) = (await lockable.written("1")).json()["enrolment_ids"]
    world.ctx.clock.advance(timedelta(days=11))  # registration closed; unpaid subjects still within their 24 h
    teacher = world.tokens.headers(None, "teacher", school_code="99301")
    twice, twice_paid = paid[-1]  # pays again for a subject already paid: that payment must be refunded

    def pay_twice():
        return helpers.pay(world, twice, [twice_paid])

    # The probe sees a session-wide lock: what main's one-transaction arrangement held from its
    # start to its commit (the session row and every paid subject of it) stops the second payment.
    async with world.ctx.engine.connect() as whole_run:
        await whole_run.begin()
        await whole_run.execute(text("SELECT 1 FROM exam_sessions WHERE id = :s FOR UPDATE"), {"s": world.session_id})
        await whole_run.execute(text("SELECT id FROM enrolments WHERE exam_session_id = :s AND status = 'paid' FOR UPDATE"), {"s": world.session_id})
        stopped = asyncio.create_task(pay_twice())
        await wait_for(lambda: helpers.waiting_on_a_lock(world, "FROM enrolments"), what="the payment stopped by the session-wide lock")
        assert not stopped.done()
        await whole_run.rollback()
    await asyncio.wait_for(stopped, DEADLINE)
    assert len(await world.outbox("RefundRequired")) == 1

    # Now the job: batch 1 (3 subjects) commits, batch 2 waits on a row the test holds — mid-run.
    ops = {**world.tokens.headers(None, "ops"), "prefer": "respond-async"}
    queued = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
    assert queued.status_code == 202
    async with world.ctx.engine.connect() as blocker:
        await blocker.begin()
        await blocker.execute(text("SELECT 1 FROM enrolments WHERE id = :id FOR UPDATE"), {"id": paid[4][1]})
        worker = asyncio.create_task(helpers.run(world, 3))
        await wait_for(lambda: helpers.waiting_on_a_lock(world, "arrangement_queue"), what="batch 2 mid-run")

        await asyncio.wait_for(helpers.pay(world, paying, [unpaid]), DEADLINE)  # a candidate pays
        locked = await asyncio.wait_for(
            world.client.put("/teacher/collective-lock", json={"enrolment_ids": [to_lock], "locked": True}, headers=teacher), DEADLINE
        )
        assert locked.status_code == 200 and locked.json() == {"changed": 1}
        await asyncio.wait_for(pay_twice(), DEADLINE)  # the subject paid twice, frozen in a later batch
        page = await asyncio.wait_for(paying.page(), DEADLINE)
        assert not worker.done(), "all of it happened while the batch was open"
        await blocker.rollback()
    assert await asyncio.wait_for(worker, DEADLINE) == 7
    assert len(await world.outbox("RefundRequired")) == 2
    assert [row["payment_status"] for row in page["written"]["rows"]] == ["已支付"]

    # Paid after the freeze: not in this run; the next run seats it.
    assert await world.scalar("SELECT arranged_at FROM enrolments WHERE id = CAST(:id AS uuid)", id=unpaid) is None
    again = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers={"authorization": ops["authorization"]})
    assert again.json() == {"arranged": 1}
    assert await world.scalar("SELECT ticket_number FROM enrolments WHERE id = CAST(:id AS uuid)", id=unpaid) == "993010172400101"


def _table(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM.encode()), "UTF-8 with a BOM, so Excel reads Chinese text"
    return list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix(BOM))))


async def test_n13_the_arrangement_is_exported_scoped_by_the_exporters_role_and_its_start_and_end_are_audited(world, monkeypatch) -> None:
    monkeypatch.setattr(exports, "KEYSET_PAGE", 2)  # read page by page along the ticket numbers: 3 rows are 2 pages
    await world.open_session()
    ops_id = "0" * 31 + "7"
    ops = world.tokens.headers(ops_id, "ops")
    await helpers.paid_candidates(world, 2, school="99301", campus="993010")
    await helpers.paid_candidates(world, 1, school="99101", campus="991010")
    world.ctx.clock.advance(timedelta(days=11))
    assert (await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)).json() == {"arranged": 3}

    everything = await world.client.get("/exports/arrangement", params={"session": str(world.session_id)}, headers=ops)
    assert everything.status_code == 200 and everything.headers["content-type"].startswith("text/csv")
    table = _table(everything.content)
    assert table[0] == ["省份代码", "学校代码", "校区代码", "报名号", "姓名", "证件号码", "科目", "考点校区", "考场号", "座位号", "准考证号"]
    assert [(row[1], row[7], row[8], row[9], row[10]) for row in table[1:]] == [
        ("99101", "991010", "1", "1", "991010172100101"),
        ("99301", "993010", "1", "1", "993010172100101"),
        ("99301", "993010", "1", "2", "993010172100102"),
    ]
    assert table[1][5].count("*") >= 8, "ID numbers masked as in the other exports"
    own = world.tokens.headers(None, "teacher", school_code="99301")
    theirs = _table((await world.client.get("/exports/arrangement", headers=own)).content)
    assert [row[1] for row in theirs[1:]] == ["99301", "99301"], "a teacher exports their school only"
    other = await world.client.get("/exports/arrangement", params={"school": "99101"}, headers=own)
    assert other.status_code == 403 and world.code(other) == "out_of_scope"
    assert (await world.client.get("/exports/arrangement", headers=world.tokens.headers(None, "candidate"))).status_code == 403

    started = (await world.client.get("/ops/audit", params={"kind": "arrangement.started"}, headers=ops)).json()["items"]
    ended = (await world.client.get("/ops/audit", params={"kind": "session.arranged"}, headers=ops)).json()["items"]
    assert [(r["actor_id"], r["actor_role"], r["subject_id"]) for r in started] == [(ops_id, "ops", str(world.session_id))]
    (end,) = ended
    assert end["actor_id"] == "system" and end["before"] == {"arranged_at": None}
    assert end["after"]["newly_arranged"] == 3 and end["after"]["requested_by"] == ops_id
    assert uuid.UUID(end["after"]["job_id"]) == uuid.UUID(started[0]["after"]["job_id"])
