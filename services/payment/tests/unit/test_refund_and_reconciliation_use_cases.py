"""Y4 refunds and Y5 reconciliation decisions on the fake unit of work and scripted gateways."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cet_shared.auth import Principal
from cet_shared.clock import to_shanghai
from cet_shared.events.contracts import (
    PaymentConfirmed,
    RefundCompleted,
    RefundFailed,
    RefundRequired,
)
from payment.gateways.base import NotifiedPayment, StatementLine, VerifiedNotification
from payment.service.notifications import receive
from payment.service.orders import checkout, create_order
from payment.service.reconciliation import reconcile, reconcile_yesterday_if_due
from payment.service.refunds import (
    RefundExceedsPayment,
    on_refund_required,
    process_one,
    process_pending,
)


async def paid_order(uow, clock, settings, gateways, enrol, *fees: int, transaction_id: str = "T1"):
    me = Principal(passport_id=uuid.uuid4().hex.upper(), roles=frozenset({"candidate"}))
    subjects = enrol(me.passport_id, *fees)
    order = await create_order(uow, clock, settings, me, [s.enrolment_id for s in subjects])
    out_trade_no = (await checkout(uow, clock, settings, gateways, me, order.order_id, "alipay", None)).redirect.fields["out_trade_no"]
    amount = f"{sum(fees) / 100:.2f}"
    payment = NotifiedPayment(out_trade_no, transaction_id, amount, True, "TRADE_SUCCESS", clock.now())
    gateways["alipay"].notifications[out_trade_no.encode()] = VerifiedNotification(True, "ok", [payment])
    await receive(uow, clock, settings, gateways, "alipay", out_trade_no.encode(), None)
    return order, subjects, out_trade_no


def required(order, subjects, amount_fen: int) -> RefundRequired:
    return RefundRequired(
        order_id=order.order_id,
        registration_id=order.registration_id,
        enrolment_ids=[s.enrolment_id for s in subjects],
        amount_fen=amount_fen,
        reason="late_payment_no_seat",
    )


async def test_y4_a_refund_is_queued_once_never_beyond_the_payment_and_sent_once(uow, clock, settings, gateways, enrol):
    order, subjects, _ = await paid_order(uow, clock, settings, gateways, enrol, 3000, 2000)
    oral = subjects[1:]
    async with uow:
        assert await on_refund_required(uow, clock, required(order, oral, 2000)) is True
        assert await on_refund_required(uow, clock, required(order, oral, 2000)) is False, "asked twice, queued once"
        with pytest.raises(RefundExceedsPayment):
            await on_refund_required(uow, clock, required(order, subjects[:1], 3001))
        await uow.commit()
    assert await process_pending(uow, clock, settings, gateways) == 1
    assert await process_pending(uow, clock, settings, gateways) == 0, "nothing is sent twice"
    (refund,) = uow.committed.refunds.values()
    assert refund.status == "completed" and gateways["alipay"].refunded == [refund.request_no]
    (done,) = uow.published(RefundCompleted)
    assert done.amount_fen == 2000 and [s.subject_code for s in done.subjects] == ["F"] and done.passport_id == uow.committed.orders[order.order_id].passport_id
    kinds = [e.kind for e in uow.committed.audit]
    assert kinds.count("refund.requested") == 1 and kinds.count("refund.completed") == 1, "queued once, sent once: audited once each"
    (sent,) = [e for e in uow.committed.audit if e.kind == "refund.completed"]
    assert sent.subject == ("refund", refund.refund_id) and sent.after == {
        "status": "completed",
        "amount_fen": 2000,
        "gateway": "alipay",
        "order_id": order.order_id,
    }


async def test_y4_a_refund_the_gateway_keeps_refusing_fails_after_the_last_attempt(uow, clock, settings, gateways, enrol):
    settings.refund_max_attempts = 2
    order, subjects, _ = await paid_order(uow, clock, settings, gateways, enrol, 3000)
    async with uow:
        await on_refund_required(uow, clock, required(order, subjects, 3000))
        await uow.commit()
    gateways["alipay"].refund_error = "connection reset"
    await process_one(uow, clock, settings, gateways)
    (refund,) = uow.committed.refunds.values()
    assert (refund.status, refund.attempts) == ("pending", 1) and uow.published(RefundFailed) == []
    assert [e for e in uow.committed.audit if e.kind == "refund.failed"] == [], "a retry to come is no failure yet"
    await process_one(uow, clock, settings, gateways)
    (refund,) = uow.committed.refunds.values()
    assert (refund.status, refund.attempts) == ("failed", 2)
    (failed,) = uow.published(RefundFailed)
    assert failed.amount_fen == 3000 and failed.order_id == order.order_id
    (audited,) = [e for e in uow.committed.audit if e.kind == "refund.failed"]
    assert audited.after == {"status": "failed", "attempts": 2, "amount_fen": 3000}
    assert await process_one(uow, clock, settings, gateways) is None, "a failed refund is support's now"


async def test_y5_reconciliation_matches_settles_and_reports_every_mismatch(uow, clock, settings, gateways, enrol):
    day = to_shanghai(clock.now()).date()
    matched, _, matched_no = await paid_order(uow, clock, settings, gateways, enrol, 3000, transaction_id="M1")
    missing, _, missing_no = await paid_order(uow, clock, settings, gateways, enrol, 3000, transaction_id="X1")
    me = Principal(passport_id=uuid.uuid4().hex.upper(), roles=frozenset({"candidate"}))
    (subject,) = enrol(me.passport_id, 3000)
    unpaid = await create_order(uow, clock, settings, me, [subject.enrolment_id])
    unpaid_no = (await checkout(uow, clock, settings, gateways, me, unpaid.order_id, "alipay", None)).redirect.fields["out_trade_no"]
    gateways["alipay"].lines = [
        StatementLine(matched_no, "M1", "30.00", "trade", clock.now()),
        StatementLine(unpaid_no, "U1", "30.00", "trade", clock.now()),  # paid there, the notification never came
        StatementLine("CET-NOT-OURS", "Z1", "1.00", "trade", clock.now()),
        StatementLine(matched_no, "R1", "30.00", "refund", clock.now()),  # refunds are not trades
    ]
    report = await reconcile(uow, clock, gateways, "alipay", day)
    kinds = {f.out_trade_no: f.kind for f in report.findings}
    assert kinds == {unpaid_no: "settled", "CET-NOT-OURS": "unknown_order", missing_no: "missing_there"}
    assert report.matched == 1 and report.lines == 3
    assert uow.committed.orders[unpaid.order_id].status == "paid" and len(uow.published(PaymentConfirmed)) == 3
    (run,) = uow.committed.runs.values()
    assert run["status"] == "completed" and run["summary"] == {"lines": 3, "matched": 1, "settled": 1, "unknown_order": 1, "missing_there": 1}
    assert sorted(f.kind for run_id, f in uow.committed.findings if run_id is not None) == ["missing_there", "settled", "unknown_order"]
    assert matched.order_id != missing.order_id


async def test_y5_the_daily_run_waits_for_the_statement_and_runs_once_a_day(new_uow, clock, settings, gateways):
    clock.set(datetime(2017, 3, 2, 1, 0, tzinfo=UTC))  # 09:00 in Beijing: statements are not out yet
    assert await reconcile_yesterday_if_due(new_uow, clock, settings, gateways) == 0
    clock.advance(timedelta(hours=2))
    assert await reconcile_yesterday_if_due(new_uow, clock, settings, gateways) == 2, "one run per gateway"
    assert await reconcile_yesterday_if_due(new_uow, clock, settings, gateways) == 0, "done for the day"
    days = {run["day"] for run in new_uow().committed.runs.values()}
    assert days == {to_shanghai(clock.now()).date() - timedelta(days=1)}
