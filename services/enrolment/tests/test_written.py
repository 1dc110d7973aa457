"""Written enrolment: N3, N4, N5, N7 through the candidate API on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC


async def test_n3_written_subjects_need_the_notices_read_first(world) -> None:
    await world.open_session()
    candidate = await world.bind(acknowledge=False)
    page = await candidate.page()
    assert page["notices_acknowledged"] is False
    assert [n["title"] for n in page["notices"]["province"]] == ["(99)测试省"]
    assert [n["title"] for n in page["notices"]["registration_notes"]] == ["报考须知"]

    refused = await candidate.written("1")
    assert refused.status_code == 409 and world.code(refused) == "notices_not_acknowledged"
    assert await world.scalar("SELECT count(*) FROM enrolments") == 0

    ack = await world.client.post("/me/notices/acknowledgement", headers=candidate.headers)
    assert ack.status_code == 200
    assert (await candidate.written("1")).status_code == 201


async def test_n4_only_qualification_subjects_can_be_chosen(world) -> None:
    await world.open_session()
    candidate = await world.bind(qualifications=("英语四级笔试",))
    refused = await candidate.written("2")
    assert refused.status_code == 403 and world.code(refused) == "not_qualified"
    assert refused.json()["title"] == "不具有英语六级笔试报考资格！"
    assert await world.scalar("SELECT count(*) FROM enrolments") == 0
    assert (await candidate.written("1")).status_code == 201


async def test_n5_one_written_subject_per_level(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    # 英语四级 and 日语四级 in one batch: refused, and nothing of the batch stays.
    both = await candidate.written("1", "3")
    assert both.status_code == 409 and world.code(both) == "one_per_level"
    assert await world.scalar("SELECT count(*) FROM enrolments") == 0
    # Level 4 and level 6 together are fine (the guide's 英语四级 + 日语六级).
    assert (await candidate.written("1", "4")).status_code == 201
    again = await candidate.written("3")
    assert again.status_code == 409 and world.code(again) == "one_per_level"


async def test_n5_one_per_level_holds_under_concurrent_clicks(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    answers = await asyncio.gather(*(candidate.written(code) for code in ("1", "3", "1", "3", "1", "3")))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409, 409]
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE level = 4 AND status = 'held'") == 1


async def test_n7_subjects_in_batches_and_only_paid_counts_as_registered(world) -> None:
    import uuid

    from cet_shared.events.contracts import PaymentConfirmed

    await world.open_session()
    candidate = await world.bind()
    first = (await candidate.written("1")).json()["enrolment_ids"]
    second = (await candidate.written("4")).json()["enrolment_ids"]
    page = await candidate.page()
    assert page["written"]["payment_status"] == "全未支付" and page["written"]["unpaid_fen"] == 2
    assert page["flow"][1] == {"name": "完成报名", "state": "未完成", "done": False}
    assert page["reminder"] == "存在未支付笔试科目，请通过“支付缴费”进行支付。"

    await world.deliver(
        PaymentConfirmed(
            order_id=uuid.uuid4(),
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=first,
            amount_fen=1,
            gateway="alipay",
            gateway_transaction_id="T1",
            paid_at=world.ctx.clock.now().astimezone(UTC),
        ),
        key=str(candidate.registration_id),
    )
    page = await candidate.page()
    assert page["written"]["payment_status"] == "部分支付" and page["written"]["unpaid_fen"] == 1
    assert [r["payment_status"] for r in page["written"]["rows"]] == ["已支付", "未支付"]
    assert page["flow"][1]["state"] == "未完成"

    await world.deliver(
        PaymentConfirmed(
            order_id=uuid.uuid4(),
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=second,
            amount_fen=1,
            gateway="payease",
            gateway_transaction_id="T2",
            paid_at=world.ctx.clock.now(),
        ),
        key=str(candidate.registration_id),
    )
    page = await candidate.page()
    assert page["written"]["payment_status"] == "全部支付" and page["written"]["unpaid_fen"] == 0
    assert page["flow"][1] == {"name": "完成报名", "state": "已完成", "done": True}
    assert page["reminder"] is None
    assert len(await world.outbox("SubjectPaid")) == 2


async def test_n2_fee_and_subject_come_from_the_campus_offering(world) -> None:
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010")
    response = await candidate.written("1")
    assert response.status_code == 201
    [enrolled] = await world.outbox("SubjectEnrolled")
    assert enrolled["subject_code"] == "1" and enrolled["subject_name"] == "英语四级笔试"
    assert enrolled["campus_code"] == "993010" and enrolled["fee_fen"] == 1
    assert enrolled["passport_id"] == candidate.passport_id and enrolled["key"] == str(candidate.registration_id)
    not_offered = await candidate.written("5")
    assert world.code(not_offered) in ("not_qualified", "not_offered")


async def test_n1_written_outside_the_registration_window_is_refused(world) -> None:
    from datetime import timedelta

    await world.open_session()
    candidate = await world.bind()
    world.ctx.clock.advance(timedelta(days=11))
    late = await candidate.written("1")
    assert late.status_code == 409 and world.code(late) == "registration_closed"


async def test_roles_are_checked(world) -> None:
    await world.open_session()
    anonymous = await world.client.get("/me/registration")
    assert anonymous.status_code == 401
    teacher = await world.client.post("/me/written", json={"subject_codes": ["1"]}, headers=world.tokens.headers(None, "teacher", school_code="99101"))
    assert teacher.status_code == 403
    candidate = await world.client.post("/ops/sessions", json={}, headers=world.tokens.headers(None, "candidate"))
    assert candidate.status_code == 403
    bad = await world.client.post("/me/written", json={"subject_codes": ["Z"], "x": 1}, headers=world.tokens.headers(None, "candidate"))
    assert bad.status_code == 422 and world.code(bad) == "invalid_request"
