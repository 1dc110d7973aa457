"""Operations (N1, N2, N11 live capacity), the registration info page (N12), the arrangement and
admission tickets (N13)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from cet_shared.events.contracts import PaymentConfirmed
from enrolment.cli import DEMO_SESSION, load_session_file
from enrolment.service.sessions import create_session


def _json(document):
    return json.loads(json.dumps(document, default=str))


async def _pay(world, candidate, ids) -> None:
    await world.deliver(
        PaymentConfirmed(
            order_id=uuid.uuid4(),
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=ids,
            amount_fen=len(ids),
            gateway="alipay",
            gateway_transaction_id=uuid.uuid4().hex,
            paid_at=world.ctx.clock.now(),
        ),
        key=str(candidate.registration_id),
    )


async def test_n1_ops_set_up_a_session_end_to_end_and_publish_it(world, document_for) -> None:
    ops = world.tokens.headers(None, "ops")
    document = _json(document_for(world.ctx.clock.now()))
    created = await world.client.post("/ops/sessions", json=document, headers=ops)
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    world.session_id = uuid.UUID(session_id)
    added = await world.client.post(
        f"/ops/sessions/{session_id}/campuses",
        json={
            "province_code": "99",
            "school_code": "99101",
            "school_name": "测试学校",
            "campus_code": "991011",
            "campus_name": "99101-1校区",
            "offerings": [{"subject": "9", "fee_fen": 3000}],
        },
        headers=ops,
    )
    assert added.status_code == 201 and len(added.json()["offering_ids"]) == 1
    notice = await world.client.post(
        f"/ops/sessions/{session_id}/notices", json={"scope": "school", "school_code": "99301", "title": "机构01通告", "body": "…"}, headers=ops
    )
    assert notice.status_code == 204

    published = await world.client.post(f"/ops/sessions/{session_id}/publication", headers=ops)
    assert published.status_code == 200
    [event] = await world.outbox("ExamSessionPublished")
    assert event["key"] == session_id and event["name"] == "2017年下半年CET考试"
    dates = {d["subject_code"]: d["exam_date"] for d in event["exam_dates"]}
    assert dates["1"] == dates["9"] == document["written_exam_date"]
    assert dates["F"] == document["oral_exam_dates"]["F"] and dates["S"] == document["oral_exam_dates"]["S"]
    overview = (await world.client.get(f"/ops/sessions/{session_id}", headers=ops)).json()
    assert len(overview["offerings"]) == 6 + 5 + 1 and overview["session"]["published_at"] is not None

    # Bad input changes nothing and never answers 500.
    twice = await world.client.post("/ops/sessions", json={**document, "id": session_id}, headers=ops)
    assert twice.status_code == 409 and world.code(twice) == "exam_session_exists"
    broken = dict(document, registration={"opens_at": document["registration"]["closes_at"], "closes_at": document["registration"]["opens_at"]})
    assert (await world.client.post("/ops/sessions", json=broken, headers=ops)).status_code == 422
    wrong_campus = await world.client.post(
        f"/ops/sessions/{session_id}/campuses",
        json={"province_code": "99", "school_code": "99101", "school_name": "x", "campus_code": "993010", "campus_name": "x", "offerings": []},
        headers=ops,
    )
    assert wrong_campus.status_code == 422
    assert await world.scalar("SELECT count(*) FROM exam_sessions") == 1


async def test_n1_demo_session_file_loads_with_todays_dates(world) -> None:
    spec = load_session_file(DEMO_SESSION, now=world.ctx.clock.now())
    assert spec.registration.opens_at < world.ctx.clock.now() < spec.registration.closes_at
    session_id = await create_session(world.ctx.unit_of_work, spec)
    assert await world.scalar("SELECT count(*) FROM offerings WHERE exam_session_id = :s AND subject_code IN ('F', 'S')", s=session_id) == 4
    assert await world.scalar("SELECT count(*) FROM notices WHERE exam_session_id = :s", s=session_id) == 3


async def test_n11_capacity_changes_live_never_below_seats_held(world) -> None:
    await world.open_session()
    ops = world.tokens.headers(None, "ops")
    offering = await world.offering("993010", "F")  # 2 seats
    candidates = [await world.bind(school="99301", campus="993010") for _ in range(3)]
    for candidate in candidates[:2]:
        await candidate.written("1")
        await candidate.oral(offering)
    below = await world.client.put(f"/ops/offerings/{offering}/capacity", json={"capacity": 1}, headers=ops)
    assert below.status_code == 409 and world.code(below) == "capacity_below_held"
    raised = await world.client.put(f"/ops/offerings/{offering}/capacity", json={"capacity": 5}, headers=ops)
    assert raised.json() == {"capacity": 5, "remaining": 3, "promoted_from_waitlist": 0}
    await candidates[2].written("1")
    assert (await candidates[2].oral(offering)).status_code == 201
    lowered = await world.client.put(f"/ops/offerings/{offering}/capacity", json={"capacity": 3}, headers=ops)
    assert lowered.json() == {"capacity": 3, "remaining": 0, "promoted_from_waitlist": 0}
    unlimited = await world.client.put(f"/ops/offerings/{await world.offering('993010', '1')}/capacity", json={"capacity": 3}, headers=ops)
    assert world.code(unlimited) == "capacity_unlimited"
    missing = await world.client.put(f"/ops/offerings/{uuid.uuid4()}/capacity", json={"capacity": 3}, headers=ops)
    assert missing.status_code == 404


async def test_n12_registration_info_page(world) -> None:
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010")
    written = (await candidate.written("1", "4")).json()["enrolment_ids"]
    page = await candidate.page()
    assert page["exam_session"]["name"] == "2017年下半年CET考试"
    assert page["personal"] == {"name": "廖晓儿", "gender": "女", "id_type": "resident_id_card", "id_number": "330*************00"}
    assert page["school"] == "(99301)测试学校机构01" and page["campus"] == "(993010)测试校区机构001"
    assert [q["name"] for q in page["qualification_subjects"]] == ["英语四级笔试", "日语四级笔试", "日语六级笔试", "英语四级口试"]
    rows = page["written"]["rows"]
    assert [(r["number"], r["subject"], r["fee_fen"], r["payment_status"], r["arrangement_status"], r["method"], r["school"], r["campus"]) for r in rows] == [
        (1, "(1) 英语四级笔试", 1, "未支付", "未编排", "考生注册", "(99301)测试学校机构01", "(993010)测试校区机构001"),
        (2, "(4) 日语六级笔试", 1, "未支付", "未编排", "考生注册", "(99301)测试学校机构01", "(993010)测试校区机构001"),
    ]
    assert page["written"]["payment_status"] == "全未支付" and page["written"]["unpaid_fen"] == 2
    assert page["oral_empty_message"] == "当前没有报考口试科目，可通过“口试报考”进行科目报考！"
    assert [(s["name"], s["state"]) for s in page["flow"]] == [
        ("口试缴费(选)", "未完成"),
        ("完成报名", "未完成"),
        ("打印笔试准考证", "不可打印"),
        ("参加考试", "未开始"),
        ("结束", "未结束"),
    ]
    assert page["reminder"] == "存在未支付笔试科目，请通过“支付缴费”进行支付。"
    assert page["notices"]["province"][0]["body"].startswith("一、遵守时间")
    await _pay(world, candidate, written)
    page = await candidate.page()
    assert page["flow"][1]["state"] == "已完成" and page["reminder"] is None


async def test_n13_arrangement_and_ticket_pdf_in_the_printing_window(world) -> None:
    await world.open_session()
    ops = world.tokens.headers(None, "ops")
    candidates = [await world.bind(school="99301", campus="993010") for _ in range(4)]
    ticket_ids = []
    for candidate in candidates:
        ids = (await candidate.written("1")).json()["enrolment_ids"]
        await _pay(world, candidate, ids)
        ticket_ids.append(ids[0])
        world.ctx.clock.advance(timedelta(minutes=1))  # rooms fill in payment order
    oral = (await candidates[0].oral(await world.offering("993010", "F"))).json()["enrolment_ids"]
    await _pay(world, candidates[0], oral)
    unpaid = (await candidates[1].written("4")).json()["enrolment_ids"]

    early = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
    assert early.status_code == 409 and world.code(early) == "registration_not_closed"
    not_yet = await world.client.get(f"/me/enrolments/{ticket_ids[0]}/ticket.pdf", headers=candidates[0].headers)
    assert world.code(not_yet) == "not_arranged"

    world.ctx.clock.advance(timedelta(days=10, minutes=1))
    arranged = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
    assert arranged.json() == {"arranged": 5}
    again = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
    assert again.json() == {"arranged": 0}
    numbers = [await world.scalar("SELECT ticket_number FROM enrolments WHERE id = :id", id=uuid.UUID(i)) for i in ticket_ids]
    # 99 province, 301 school, 0 campus digit, 17 year, 2 December, 1 subject, room, seat (3 seats a room here).
    assert numbers == ["993010172100101", "993010172100102", "993010172100103", "993010172100201"]
    assert await world.scalar("SELECT ticket_number FROM enrolments WHERE id = :id", id=uuid.UUID(oral[0])) == "F99301017200101"
    assert await world.scalar("SELECT ticket_number FROM enrolments WHERE id = :id", id=uuid.UUID(unpaid[0])) is None

    page = await candidates[0].page()
    assert page["written"]["rows"][0]["arrangement_status"] == "已编排"
    closed = await world.client.get(f"/me/enrolments/{ticket_ids[0]}/ticket.pdf", headers=candidates[0].headers)
    assert closed.status_code == 409 and world.code(closed) == "tickets_not_open"

    world.ctx.clock.advance(timedelta(days=2))
    page = await candidates[0].page()
    assert page["written"]["rows"][0]["ticket_available"] is True
    assert page["flow"][2] == {"name": "打印笔试准考证", "state": "可打印", "done": True}
    pdf = await world.client.get(f"/me/enrolments/{ticket_ids[0]}/ticket.pdf", headers=candidates[0].headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"/FontFile2" in pdf.content  # the font travels with the ticket
    assert "993010172100101" in pdf.headers["content-disposition"]
    oral_pdf = await world.client.get(f"/me/enrolments/{oral[0]}/ticket.pdf", headers=candidates[0].headers)
    assert oral_pdf.status_code == 200
    others = await world.client.get(f"/me/enrolments/{ticket_ids[0]}/ticket.pdf", headers=candidates[1].headers)
    assert others.status_code == 404


async def test_n14_raised_capacity_serves_the_waiting_list_first(world) -> None:
    await world.open_session()
    ops = world.tokens.headers(None, "ops")
    offering = await world.offering("993010", "F")  # 2 seats
    people = [await world.bind(school="99301", campus="993010") for _ in range(5)]
    for candidate in people:
        await candidate.written("1")
    for candidate in people[:2]:
        assert (await candidate.oral(offering)).status_code == 201
    for candidate in people[2:4]:
        assert (await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=candidate.headers)).status_code == 201
    raised = await world.client.put(f"/ops/offerings/{offering}/capacity", json={"capacity": 5}, headers=ops)
    assert raised.json() == {"capacity": 5, "remaining": 1, "promoted_from_waitlist": 2}
    assert [len((await c.page())["oral"]["rows"]) for c in people] == [1, 1, 1, 1, 0]
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering) == 4
    assert (await people[4].oral(offering)).status_code == 201
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0


async def test_n1_enrolment_admin_sets_up_and_publishes_the_demo_session(world, database_url) -> None:
    """The operations CLI end to end, as a process: `enrolment-admin setup --publish`, then a
    live capacity change."""
    import asyncio
    import os
    import sys

    env = {**os.environ, "DATABASE_URL_ENROLMENT": database_url, "CET_ENV": "test"}

    async def admin(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enrolment.cli", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
        return process.returncode, output.decode()

    code, output = await admin("setup", "--publish")
    assert code == 0, output
    session_id = output.strip().splitlines()[-1]
    assert session_id == "5a0e1c2d-2017-4ce7-9d0e-000000000099"
    [published] = await world.outbox("ExamSessionPublished")
    assert published["key"] == session_id and published["name"].startswith("2026年下半年CET考试")
    again, output = await admin("setup")
    assert again == 1 and "考次已存在" in output
    offering = await world.scalar("SELECT id::text FROM offerings WHERE campus_code = '991010' AND subject_code = 'F'")
    code, output = await admin("capacity", offering, "40")
    assert code == 0 and "'remaining': 40" in output
