"""Y3 on the fake unit of work: a notification verified, recorded as received, applied once; a
transaction id seen on another order settled only on the gateway query's word; a second payment
of a paid order refunded."""

from __future__ import annotations

import uuid
from datetime import datetime

from cet_shared.auth import Principal
from cet_shared.events.contracts import PaymentConfirmed
from payment.gateways.base import NotifiedPayment, TradeState, VerifiedNotification
from payment.service.notifications import receive
from payment.service.orders import checkout, create_order


async def ordered(uow, clock, settings, gateways, enrol, *fees: int, gateway: str = "alipay"):
    me = Principal(passport_id=uuid.uuid4().hex.upper(), roles=frozenset({"candidate"}))
    subjects = enrol(me.passport_id, *fees)
    order = await create_order(uow, clock, settings, me, [s.enrolment_id for s in subjects])
    form = await checkout(uow, clock, settings, gateways, me, order.order_id, gateway, "boc" if gateway == "payease" else None)
    return order, form.redirect.fields["out_trade_no"]


def notify(gateway, body: bytes, out_trade_no: str, transaction_id: str, amount_yuan: str, **extra) -> bytes:
    paid = NotifiedPayment(out_trade_no, transaction_id, amount_yuan, True, "TRADE_SUCCESS", datetime(2017, 3, 2, 4, 1), **extra)
    gateway.notifications[body] = VerifiedNotification(True, "ok", [paid])
    return body


async def test_y3_a_forged_notification_is_kept_cut_short_and_changes_nothing(uow, clock, settings, gateways, enrol):
    order, _ = await ordered(uow, clock, settings, gateways, enrol, 3000)
    forged = b"x" * (settings.notify_rejected_body_bytes + 500)
    result = await receive(uow, clock, settings, gateways, "alipay", forged, "application/x-www-form-urlencoded")
    assert result.outcomes == ["rejected"] and result.answer == "fail", "the gateway is told to try again"
    (kept,) = uow.committed.notifications.values()
    assert not kept.verified and len(kept.body) == settings.notify_rejected_body_bytes
    assert uow.committed.orders[order.order_id].status == "open" and uow.committed.payments == []


async def test_y3_a_verified_notification_pays_the_order_once_however_often_it_comes(uow, clock, settings, gateways, enrol):
    order, out_trade_no = await ordered(uow, clock, settings, gateways, enrol, 3000, 2000)
    body = notify(gateways["alipay"], b"paid", out_trade_no, "T1", "50.00")
    first = await receive(uow, clock, settings, gateways, "alipay", body, None)
    again = await receive(uow, clock, settings, gateways, "alipay", body, None)
    assert (first.outcomes, first.answer, again.outcomes, again.answer) == (["applied"], "success", ["duplicate"], "success")
    assert uow.committed.orders[order.order_id].status == "paid" and len(uow.committed.payments) == 1
    (confirmed,) = uow.published(PaymentConfirmed)
    assert confirmed.order_id == order.order_id and confirmed.amount_fen == 5000 and confirmed.gateway_transaction_id == "T1"
    assert [s.subject_code for s in confirmed.subjects] == ["1", "F"]
    assert [n.outcome for n in uow.committed.notifications.values()] == ["applied", "duplicate"]


async def test_y3_wrong_amount_merchant_or_order_is_recorded_and_pays_nothing(uow, clock, settings, gateways, enrol):
    order, out_trade_no = await ordered(uow, clock, settings, gateways, enrol, 3000)
    alipay = gateways["alipay"]
    short = await receive(uow, clock, settings, gateways, "alipay", notify(alipay, b"short", out_trade_no, "T1", "0.01"), None)
    merchant = await receive(uow, clock, settings, gateways, "alipay", notify(alipay, b"other", out_trade_no, "T1", "30.00", merchant_ok=False), None)
    unknown = await receive(uow, clock, settings, gateways, "alipay", notify(alipay, b"who", "CET-NOT-OURS", "T9", "30.00"), None)
    assert [r.outcomes for r in (short, merchant, unknown)] == [["amount_mismatch"], ["wrong_merchant"], ["unknown_order"]]
    assert merchant.answer == "fail" and short.answer == "success", "only our own misconfiguration is worth the gateway's retries"
    assert uow.committed.orders[order.order_id].status == "open" and uow.committed.payments == [] and uow.published(PaymentConfirmed) == []


async def test_y3_a_transaction_id_of_another_order_is_a_conflict_settled_by_the_query(uow, clock, settings, gateways, enrol):
    first, first_no = await ordered(uow, clock, settings, gateways, enrol, 3000)
    second, second_no = await ordered(uow, clock, settings, gateways, enrol, 3000)
    alipay = gateways["alipay"]
    await receive(uow, clock, settings, gateways, "alipay", notify(alipay, b"a", first_no, "T1", "30.00"), None)
    # The gateway reuses T1 for the second order; its query does not (yet) say it is paid.
    doubtful = await receive(uow, clock, settings, gateways, "alipay", notify(alipay, b"b", second_no, "T1", "30.00"), None)
    assert doubtful.outcomes == ["conflict_support"] and doubtful.answer == "fail"
    (conflict,) = uow.committed.conflicts.values()
    assert conflict.status == "support" and conflict.existing_order_id == first.order_id
    assert [f.kind for _, f in uow.committed.findings] == ["transaction_conflict"]
    assert uow.committed.orders[second.order_id].status == "open"
    alipay.trades[second_no] = TradeState("paid", second_no, "T1", "30.00")
    settled = await receive(uow, clock, settings, gateways, "alipay", b"b", None)
    assert settled.outcomes == ["conflict_settled"] and settled.answer == "success"
    assert uow.committed.orders[second.order_id].status == "paid" and uow.committed.conflicts[conflict.id].status == "settled"
    assert len(uow.published(PaymentConfirmed)) == 2 and len(uow.committed.findings) == 1, "one finding per conflict"


async def test_y4_the_same_order_paid_through_both_gateways_refunds_the_second(uow, clock, settings, gateways, enrol):
    order, alipay_no = await ordered(uow, clock, settings, gateways, enrol, 3000)
    me = Principal(passport_id=uow.committed.orders[order.order_id].passport_id, roles=frozenset({"candidate"}))
    payease_no = (await checkout(uow, clock, settings, gateways, me, order.order_id, "payease", "boc")).redirect.fields["out_trade_no"]
    await receive(uow, clock, settings, gateways, "alipay", notify(gateways["alipay"], b"a", alipay_no, "A1", "30.00"), None)
    twice = await receive(uow, clock, settings, gateways, "payease", notify(gateways["payease"], b"p", payease_no, "P1", "30.00"), None)
    assert twice.outcomes == ["surplus_refunded"]
    (refund,) = uow.committed.refunds.values()
    assert (refund.reason, refund.amount_fen, refund.status) == ("duplicate_payment", 3000, "pending")
    assert [p.status for p in uow.committed.payments] == ["applied", "surplus"] and len(uow.published(PaymentConfirmed)) == 1
