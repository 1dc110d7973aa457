"""Issue 15: the audit trail of staff actions in enrolment (append-only, viewable, scoped) and the
streamed CSV exports (BOM, filters, a teacher only their school, chunks from a server-side cursor)."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cet_shared.csv_export import BOM, CHUNK_ROWS
from cet_shared.events.contracts import PaymentConfirmed
from enrolment.domain.subjects import SUBJECTS

OPS_ID = "0" * 31 + "1"


async def execute(world, sql: str, **params) -> None:
    async with world.ctx.engine.begin() as connection:
        await connection.execute(text(sql), params)


def rows_of(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM.encode()), "UTF-8 with a BOM, so Excel reads Chinese text"
    return list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix(BOM))))


async def test_capacity_change_and_collective_lock_are_audited_with_who_where_before_after(world) -> None:
    await world.open_session()
    ops = world.tokens.headers(OPS_ID, "ops")
    offering = await world.offering("991010", "F")
    changed = await world.client.put(f"/ops/offerings/{offering}/capacity", json={"capacity": 12}, headers={**ops, "x-request-id": "capacity-change-0001"})
    assert changed.status_code == 200, changed.text
    candidate = await world.bind()
    held = (await candidate.written("1")).json()["enrolment_ids"][0]
    teacher = world.tokens.headers(None, "teacher", school_code="99101")
    assert (await world.client.put("/teacher/collective-lock", json={"enrolment_ids": [held], "locked": True}, headers=teacher)).json() == {"changed": 1}

    page = (await world.client.get("/ops/audit", params={"kind": "offering.capacity_changed"}, headers=ops)).json()
    (row,) = page["items"]
    assert (row["actor_id"], row["actor_role"], row["address"], row["request_id"]) == (OPS_ID, "ops", "127.0.0.1", "capacity-change-0001")
    assert row["before"] == {"capacity": 10, "remaining": 10} and row["after"]["capacity"] == 12
    assert (row["subject_type"], row["subject_id"], row["school_code"], row["province_code"]) == ("offering", str(offering), "99101", "99")
    lock = (await world.client.get("/ops/audit", params={"kind": "enrolments.locked"}, headers=teacher)).json()["items"]
    assert lock[0]["actor_role"] == "teacher" and lock[0]["after"] == {"enrolment_ids": [held], "changed": 1}
    # Publication was audited too (open_session publishes, outside any request: the system acted).
    (published,) = (await world.client.get("/ops/audit", params={"kind": "session.published"}, headers=ops)).json()["items"]
    assert published["actor_id"] == "system" and published["before"] == {"published_at": None}


async def test_audit_readers_are_operations_or_staff_of_the_scope(world) -> None:
    await world.open_session()
    ops = world.tokens.headers(OPS_ID, "ops")
    for capacity in (11, 12, 13):
        await world.client.put(f"/ops/offerings/{await world.offering('991010', 'F')}/capacity", json={"capacity": capacity}, headers=ops)
    await world.client.put(f"/ops/offerings/{await world.offering('993010', 'F')}/capacity", json={"capacity": 5}, headers=ops)
    own = world.tokens.headers(None, "teacher", school_code="99301")
    seen = (await world.client.get("/ops/audit", headers=own)).json()["items"]
    assert [r["school_code"] for r in seen] == ["99301"], "a teacher sees their school only"
    refused = await world.client.get("/ops/audit", params={"school": "99101"}, headers=own)
    assert refused.status_code == 403 and world.code(refused) == "out_of_scope"
    for role in ("candidate", "support"):
        assert (await world.client.get("/ops/audit", headers=world.tokens.headers(None, role))).status_code == 403
    # Keyset pages, newest first, with the same filter.
    first = (await world.client.get("/ops/audit", params={"school": "99101", "limit": 2}, headers=ops)).json()
    second = (await world.client.get("/ops/audit", params={"school": "99101", "limit": 2, "before_id": first["next"]}, headers=ops)).json()
    after = [r["after"]["capacity"] for r in first["items"] + second["items"]]
    assert after == [13, 12, 11] and second["next"] is None
    exported = await world.client.get("/ops/audit/export", params={"school": "99101"}, headers=ops)
    table = rows_of(exported.content)
    assert table[0][:3] == ["id", "at", "actor_id"] and len(table) == 4


async def test_audit_log_refuses_update_delete_and_truncate(world) -> None:
    await world.open_session()
    async with world.ctx.engine.connect() as connection:
        for statement in ("UPDATE audit_log SET actor_id = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with connection.begin():
                    await connection.execute(text(statement))
        role = f"audit_probe_{uuid.uuid4().hex[:8]}"
        try:
            async with connection.begin():
                await connection.execute(text(f"CREATE ROLE {role}"))
                await connection.execute(text(f"GRANT ALL ON audit_log TO {role}"))
                await connection.execute(text(f"SET LOCAL ROLE {role}"))
                with pytest.raises(DBAPIError, match="append-only"):
                    async with connection.begin_nested():
                        await connection.execute(text("TRUNCATE audit_log"))
        finally:
            async with connection.begin():
                await connection.execute(text(f"DROP OWNED BY {role}"))
                await connection.execute(text(f"DROP ROLE {role}"))
    assert await world.scalar("SELECT count(*) FROM audit_log WHERE kind = 'session.published'") == 1


async def test_exports_have_a_bom_follow_the_filters_and_the_exporters_scope(world) -> None:
    await world.open_session()
    ours, theirs = await world.bind(name="廖晓儿"), await world.bind(school="99301", campus="993010", name="王测试")
    assert (await ours.written("1", "4")).status_code == 201
    paid = (await theirs.written("1")).json()["enrolment_ids"][0]
    await execute(world, "UPDATE enrolments SET status = 'paid', paid_at = now() WHERE id = :id", id=uuid.UUID(paid))
    ops = world.tokens.headers(OPS_ID, "ops")

    roster = rows_of((await world.client.get("/exports/roster", headers=ops)).content)
    assert roster[0][:5] == ["省份代码", "学校代码", "校区代码", "报名号", "姓名"] and len(roster) == 3
    assert roster[1][5] == "330*************00", "ID numbers masked"
    unpaid = rows_of((await world.client.get("/exports/unpaid", params={"school": "99101"}, headers=ops)).content)
    assert sorted((r[4], r[6]) for r in unpaid[1:]) == sorted([("廖晓儿", SUBJECTS["1"].label), ("廖晓儿", SUBJECTS["4"].label)])
    paid_rows = rows_of((await world.client.get("/exports/paid", params={"province": "99", "campus": "993010"}, headers=ops)).content)
    assert [r[4] for r in paid_rows[1:]] == ["王测试"]

    teacher = world.tokens.headers(None, "teacher", school_code="99101")
    mine = rows_of((await world.client.get("/exports/roster", headers=teacher)).content)
    assert [r[1] for r in mine[1:]] == ["99101"], "a teacher exports their own school only"
    for params in ({"school": "99301"}, {"campus": "993010"}, {"province": "11"}):
        refused = await world.client.get("/exports/roster", params=params, headers=teacher)
        assert refused.status_code == 403 and world.code(refused) == "out_of_scope", params
    assert (await world.client.get("/exports/refunds", headers=ours.headers)).status_code == 403
    assert (await world.client.get("/exports/nothing", headers=ops)).status_code == 422


async def test_a_large_export_streams_in_chunks_from_a_server_side_cursor(world) -> None:
    await world.open_session()
    total = CHUNK_ROWS * 6 + 7
    await execute(
        world,
        """INSERT INTO registrations (registration_id, exam_session_id, passport_id, snapshot, province_code, school_code, campus_code,
                                      qualification_subjects, bound_at)
           SELECT gen_random_uuid(), :s, md5(i::text), jsonb_build_object('name', '考生' || i, 'id_number', '9910100' || i, 'gender', '女'),
                  '99', '99101', '991010', '{}', now()
           FROM generate_series(1, :n) AS i""",
        s=world.session_id,
        n=total,
    )
    token = world.tokens.headers(OPS_ID, "ops")["authorization"].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/exports/roster",
        "raw_path": b"/exports/roster",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"enrolment.test"), (b"authorization", token)],
        "client": ("127.0.0.1", 1),
        "server": ("enrolment.test", 80),
    }
    chunks: list[bytes] = []
    cursor_open_mid_stream: list[bool] = []

    requested, finished = asyncio.Event(), asyncio.Event()

    async def receive() -> dict:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # the client stays until the whole answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message["headers"])
            assert message["status"] == 200 and b"content-length" not in headers and headers[b"content-type"] == b"text/csv; charset=utf-8"
        elif message["type"] == "http.response.body":
            if not message.get("more_body"):
                finished.set()
            if not message.get("body"):
                return
            chunks.append(message["body"])
            if len(chunks) == 2:  # the export's query is still open on its connection: rows are read as they are sent
                cursor_open_mid_stream.append(
                    bool(await world.scalar("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE '%FROM registrations%'"))
                )

    await world.client._transport.app(scope, receive, send)  # the ASGI messages themselves: the chunks as sent
    lines = [chunk.count(b"\r\n") for chunk in chunks]
    assert len(chunks) == 7 and max(lines) <= CHUNK_ROWS + 1, lines
    assert cursor_open_mid_stream == [True]
    assert len(rows_of(b"".join(chunks))) == total + 1


async def test_y4_each_payment_allocation_is_audited_with_what_it_bought_and_refunds(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    held = uuid.UUID((await candidate.written("1")).json()["enrolment_ids"][0])
    unknown = uuid.uuid4()
    order_id = uuid.uuid4()
    await world.deliver(
        PaymentConfirmed(
            order_id=order_id,
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=[held, unknown],
            amount_fen=2,
            gateway="alipay",
            gateway_transaction_id=uuid.uuid4().hex,
            paid_at=world.ctx.clock.now(),
        ),
        key=str(candidate.registration_id),
    )
    (row,) = (await world.client.get("/ops/audit", params={"kind": "payment.allocated"}, headers=world.tokens.headers(OPS_ID, "ops"))).json()["items"]
    assert (row["subject_id"], row["candidate"], row["school_code"], row["actor_id"]) == (str(order_id), candidate.passport_id, "99101", "system")
    assert row["after"] == {"honoured": [str(held)], "refused": [str(unknown)], "late": False, "refund_fen": 1}
