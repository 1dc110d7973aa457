"""Issue 14.1 — the registration info page (N12) shows money going back (Y4): a late payment that
cannot re-take its seat reads 退款中, then 已退款 (or 退款失败); PaymentAllocated tells passport
the receipt is for what the money bought only (Y6)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from cet_shared.events.contracts import PaidSubject, PaymentConfirmed, RefundCompleted, RefundFailed


def payment(candidate, enrolment_ids, names, *, order_id, now) -> PaymentConfirmed:
    return PaymentConfirmed(
        order_id=order_id,
        registration_id=candidate.registration_id,
        passport_id=candidate.passport_id,
        enrolment_ids=enrolment_ids,
        amount_fen=len(enrolment_ids),
        gateway="alipay",
        gateway_transaction_id=uuid.uuid4().hex,
        paid_at=now,
        subjects=[PaidSubject(enrolment_id=e, subject_code=code, subject_name=name, fee_fen=1) for e, (code, name) in zip(enrolment_ids, names)],
    )


async def late_oral_without_a_seat(world):
    await world.open_session()
    offering = await world.offering("993010", "F")  # 2 seats
    late = await world.bind(school="99301", campus="993010")
    written = (await late.written("1")).json()["enrolment_ids"]
    oral = (await late.oral(offering)).json()["enrolment_ids"]
    await world.deliver(
        payment(late, [uuid.UUID(written[0])], [("1", "英语四级笔试")], order_id=uuid.uuid4(), now=world.ctx.clock.now()), key=str(late.registration_id)
    )
    world.ctx.clock.advance(timedelta(hours=25))
    assert await world.expire_due() == 1
    for _ in range(2):
        other = await world.bind(school="99301", campus="993010")
        await other.written("1")
        assert (await other.oral(offering)).status_code == 201
    order_id = uuid.uuid4()
    await world.deliver(
        payment(late, [uuid.UUID(oral[0])], [("F", "英语四级口试")], order_id=order_id, now=world.ctx.clock.now()), key=str(late.registration_id)
    )
    return late, order_id, oral[0]


async def test_y4_n12_a_late_payment_without_a_seat_reads_refund_pending_then_refunded_never_paid(world) -> None:
    late, order_id, oral_id = await late_oral_without_a_seat(world)
    allocations = await world.outbox("PaymentAllocated")
    assert [(a["honoured_fen"], a["refund_fen"], [s["subject_code"] for s in a["honoured"]]) for a in allocations] == [(1, 0, ["1"]), (0, 1, [])]
    assert allocations[1]["refused_enrolment_ids"] == [oral_id] and allocations[1]["passport_id"] == late.passport_id

    page = await late.page()
    assert page["oral"]["rows"] == [], "no seat came back with the late payment"
    [refund] = page["oral"]["refunds"]
    assert (refund["enrolment_id"], refund["subject"], refund["refund_status"], refund["refund_status_label"]) == (
        oral_id,
        "(F) 英语四级口试",
        "refund_pending",
        "退款中",
    )
    assert refund["reason"] == "支付时科目已过期且考位已满" and page["written"]["refunds"] == []
    assert [r["payment_status"] for r in page["written"]["rows"]] == ["已支付"]

    await world.deliver(
        RefundCompleted(
            order_id=order_id, registration_id=late.registration_id, enrolment_ids=[uuid.UUID(oral_id)], amount_fen=1, refunded_at=world.ctx.clock.now()
        ),
        key=str(late.registration_id),
    )
    [refund] = (await late.page())["oral"]["refunds"]
    assert (refund["refund_status"], refund["refund_status_label"]) == ("refunded", "已退款") and refund["completed_at"]


async def test_y4_n12_a_refund_payment_gave_up_on_reads_refund_failed(world) -> None:
    late, order_id, oral_id = await late_oral_without_a_seat(world)
    await world.deliver(
        RefundFailed(
            order_id=order_id,
            registration_id=late.registration_id,
            enrolment_ids=[uuid.UUID(oral_id)],
            amount_fen=1,
            failed_at=world.ctx.clock.now(),
            reason="late_payment_no_seat",
        ),
        key=str(late.registration_id),
    )
    [refund] = (await late.page())["oral"]["refunds"]
    assert (refund["refund_status"], refund["refund_status_label"]) == ("refund_failed", "退款失败，请联系客服")
