"""Issue 14.1 — a refunded payment does not read "paid" (Y4): the order, its lines and 更新 say
refund pending, refunded or refund failed; RefundCompleted / RefundFailed carry what the refund mail
and the registration info page need. Real PostgreSQL, the sandbox in-process."""

from __future__ import annotations

import uuid

from cet_shared.events.contracts import RefundRequired
from payment.service.alerts import ALERTS
from payment.service.refunds import process_one, process_pending


async def late_paid(world):
    """Two subjects paid in one order; enrolment then refuses the second (its seat is gone)."""
    passport_id, registration_id, enrolment_ids = await world.registration(fees=(1, 1))
    order = await world.order(passport_id, enrolment_ids[:2])
    out_trade_no = await world.pay(await world.checkout(passport_id, order["order_id"]))
    await world.wait_delivered(out_trade_no)
    return passport_id, registration_id, uuid.UUID(order["order_id"]), out_trade_no, enrolment_ids[:2]


async def order_of(world, passport_id: str, order_id: uuid.UUID) -> dict:
    response = await world.api.get(f"/orders/{order_id}", headers=world.headers(passport_id))
    assert response.status_code == 200, response.text
    return response.json()


async def test_y4_a_refused_subject_reads_refund_pending_then_refunded_and_a_whole_refund_is_the_orders_state(world):
    passport_id, registration_id, order_id, out_trade_no, (kept, refused) = await late_paid(world)
    await world.feed(
        RefundRequired(order_id=order_id, registration_id=registration_id, enrolment_ids=[refused], amount_fen=1, reason="late_payment_no_seat"),
        key=str(registration_id),
    )
    order = await order_of(world, passport_id, order_id)
    assert (order["status"], order["refund_status"]) == ("paid", "refund_pending"), "one subject kept its seat: still paid"
    assert {line["enrolment_id"]: line["status"] for line in order["lines"]} == {str(kept): "paid", str(refused): "refund_pending"}
    assert order["refunds"][0] | {"enrolment_ids": None} == {
        "status": "refund_pending",
        "status_label": "退款中",
        "amount_fen": 1,
        "amount_yuan": "0.01",
        "reason": "late_payment_no_seat",
        "reason_label": "支付时科目已过期且考位已满，款项原路退回",
        "enrolment_ids": None,
    }

    assert await process_pending(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways) == 1
    order = await order_of(world, passport_id, order_id)
    assert order["refund_status"] == "refunded"
    assert [line["status"] for line in order["lines"] if line["enrolment_id"] == str(refused)] == ["refunded"]
    [completed] = await world.events("RefundCompleted")
    assert completed["passport_id"] == passport_id and completed["reason"] == "late_payment_no_seat" and completed["gateway"] == "alipay"
    assert [s["enrolment_id"] for s in completed["subjects"]] == [str(refused)]
    assert [f"{r.amount:.2f}" for r in world.sandbox.trades[out_trade_no].refunds] == ["0.01"], "the sandbox's ledger"

    # The other subject refused too: all the money went back, and the order says so, not "paid".
    await world.feed(
        RefundRequired(order_id=order_id, registration_id=registration_id, enrolment_ids=[kept], amount_fen=1, reason="late_payment_no_seat"),
        key=str(registration_id),
    )
    await process_pending(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways)
    order = await order_of(world, passport_id, order_id)
    assert (order["status"], order["status_label"]) == ("refunded", "已退款")
    refreshed = await world.api.post(f"/registrations/{registration_id}/refresh", headers=world.headers(passport_id))
    assert [(o["status"], o["refund_status"]) for o in refreshed.json()] == [("refunded", "refunded")]
    listed = await world.api.get(f"/registrations/{registration_id}/orders", headers=world.headers(uuid.uuid4().hex.upper(), "support"))
    assert [o["status"] for o in listed.json()] == ["refunded"]
    stranger = await world.api.get(f"/registrations/{registration_id}/orders", headers=world.headers(uuid.uuid4().hex.upper()))
    assert stranger.status_code == 404


async def test_y4_a_refund_the_gateway_keeps_refusing_reads_refund_failed_and_is_alerted(world):
    passport_id, registration_id, order_id, out_trade_no, enrolment_ids = await late_paid(world)
    world.ctx.settings.refund_max_attempts = 2
    world.sandbox.trades[out_trade_no].status = "TRADE_CLOSED"  # the gateway now refuses every refund
    await world.feed(
        RefundRequired(order_id=order_id, registration_id=registration_id, enrolment_ids=enrolment_ids, amount_fen=2, reason="late_payment_no_seat"),
        key=str(registration_id),
    )
    before = ALERTS["refund_failed"]
    await process_one(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways)
    assert (await order_of(world, passport_id, order_id))["status"] == "refund_pending", "one refusal: it is tried again"
    await process_one(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways)
    order = await order_of(world, passport_id, order_id)
    assert (order["status"], order["status_label"], order["refund_status"]) == ("refund_failed", "退款失败，请联系客服", "refund_failed")
    assert {line["status"] for line in order["lines"]} == {"refund_failed"}
    [failed] = await world.events("RefundFailed")
    assert failed["passport_id"] == passport_id and failed["amount_fen"] == 2
    assert ALERTS["refund_failed"] == before + 1
    assert await world.events("RefundCompleted") == []
