"""Y4 refunds and Y5 更新 / reconciliation against the real PostgreSQL and the in-process sandbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from cet_shared.clock import SHANGHAI, to_shanghai
from cet_shared.events.contracts import RefundRequired
from payment.db.tables import orders, payments, reconciliation_findings, reconciliation_runs, refunds
from payment.service.reconciliation import reconcile, reconcile_yesterday_if_due
from payment.service.refunds import process_pending


async def paid(world, gateway: str = "alipay", bank: str | None = None, *, notify: bool = True, fees=(1, 1)):
    passport_id, registration_id, enrolment_ids = await world.registration(fees=fees)
    order = await world.order(passport_id, enrolment_ids[: len(fees)])
    checkout = await world.checkout(passport_id, order["order_id"], gateway, bank)
    out_trade_no = await world.pay(checkout, notify=notify)
    if notify:
        await world.wait_delivered(out_trade_no)
    return passport_id, registration_id, uuid.UUID(order["order_id"]), out_trade_no, enrolment_ids[: len(fees)]


async def test_y5_refresh_settles_a_payment_whose_notification_never_arrived(world):
    passport_id, registration_id, order_id, out_trade_no, _ = await paid(world, notify=False)
    assert await world.scalar(select(orders.c.status).where(orders.c.order_id == order_id)) == "open", "支付成功但显示未支付"
    stranger = await world.api.post(f"/registrations/{registration_id}/refresh", headers=world.headers(uuid.uuid4().hex.upper()))
    assert stranger.status_code == 404

    response = await world.api.post(f"/registrations/{registration_id}/refresh", headers=world.headers(passport_id))
    assert response.status_code == 200 and [{k: o[k] for k in ("order_id", "status", "settled_now")} for o in response.json()] == [
        {"order_id": str(order_id), "status": "paid", "settled_now": True}
    ]
    [confirmed] = await world.events("PaymentConfirmed")
    assert confirmed["gateway_transaction_id"] == world.sandbox.trades[out_trade_no].trade_no
    assert await world.scalar(select(payments.c.source)) == "query"

    # Pressing 更新 again, or the late notification finally arriving, changes nothing.
    again = await world.api.post(f"/registrations/{registration_id}/refresh", headers=world.headers(passport_id))
    assert again.json()[0]["settled_now"] is False
    body, _ = world.sandbox.notification_body(world.sandbox.trades[out_trade_no])
    late = await world.api.post("/notify/alipay", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert late.text == "success" and await world.count(payments) == 1 and len(await world.events("PaymentConfirmed")) == 1


async def test_y5_a_support_agent_can_refresh_any_registration_and_payease_is_queried_too(world):
    passport_id, registration_id, order_id, out_trade_no, _ = await paid(world, "payease", "icbc", notify=False)
    agent = uuid.uuid4().hex.upper()
    response = await world.api.post(f"/registrations/{registration_id}/refresh", headers=world.headers(agent, "support"))
    assert response.status_code == 200 and response.json()[0]["settled_now"] is True
    [confirmed] = await world.events("PaymentConfirmed")
    assert confirmed["gateway"] == "payease" and confirmed["passport_id"] == passport_id
    # 更新 queries the gateway every time: a burst is cut off per registration.
    answers = [await world.api.post(f"/registrations/{registration_id}/refresh", headers=world.headers(passport_id)) for _ in range(10)]
    assert answers[-1].status_code == 429 and answers[-1].json()["code"] == "too_many_requests"
    assert all(a.status_code == 200 for a in answers[:8])


async def test_y4_refund_required_is_refunded_once_despite_duplicate_events_and_concurrent_runs(world):
    passport_id, registration_id, order_id, out_trade_no, enrolment_ids = await paid(world)
    event = RefundRequired(order_id=order_id, registration_id=registration_id, enrolment_ids=enrolment_ids, amount_fen=2, reason="late_payment_no_seat")
    for _ in range(3):  # redelivered with new event ids: the refund is still requested once
        await world.feed(event, key=str(registration_id))
    assert await world.count(refunds) == 1

    results = await asyncio.gather(*(process_pending(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways) for _ in range(4)))
    assert sum(results) == 1, f"one processor sent it: {results}"
    trade = world.sandbox.trades[out_trade_no]
    assert [r.amount for r in trade.refunds] == [trade.refunded] and f"{trade.refunded:.2f}" == "0.02"
    assert len(trade.refunds) == 1, "the gateway refunded once"
    [completed] = await world.events("RefundCompleted")
    assert completed == completed | {"order_id": str(order_id), "registration_id": str(registration_id), "amount_fen": 2}
    assert await world.scalar(select(refunds.c.status)) == "completed"

    # Even a refund row sent again (a worker that died before committing) moves no money twice.
    request_no = await world.scalar(select(refunds.c.request_no))
    outcome = await world.ctx.gateway("alipay").refund(
        out_trade_no=out_trade_no, transaction_id=trade.trade_no, amount_yuan="0.02", request_no=request_no, reason="r"
    )
    assert outcome.refunded and not outcome.fund_change and len(trade.refunds) == 1


async def test_y4_payease_refund_is_idempotent_through_its_refund_list(world):
    passport_id, registration_id, order_id, out_trade_no, enrolment_ids = await paid(world, "payease", "ccb")
    await world.feed(
        RefundRequired(order_id=order_id, registration_id=registration_id, enrolment_ids=enrolment_ids[:1], amount_fen=1, reason="subject_not_payable"),
        key=str(registration_id),
    )
    assert await process_pending(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways) == 1
    request_no = await world.scalar(select(refunds.c.request_no))
    again = await world.ctx.gateway("payease").refund(
        out_trade_no=out_trade_no, transaction_id=out_trade_no, amount_yuan="0.01", request_no=request_no, reason="r"
    )
    assert not again.fund_change and len(world.sandbox.trades[out_trade_no].refunds) == 1
    assert (await world.events("RefundCompleted"))[0]["amount_fen"] == 1

    # Never more back than was paid: 2 fen more on a 2-fen payment of which 1 is refunded is refused.
    too_much = RefundRequired(order_id=order_id, registration_id=registration_id, enrolment_ids=enrolment_ids, amount_fen=2, reason="subject_not_payable")
    with pytest.raises(RuntimeError, match="dead-letter"):
        await world.feed(too_much, key=str(registration_id))
    assert await world.count(refunds) == 1


async def test_y5_reconciliation_settles_or_reports_every_planted_mismatch(world):
    _, _, matched_order, matched, _ = await paid(world)
    _, _, missed_order, missed, _ = await paid(world, notify=False)  # paid there, not here
    _, _, _, mismatched, _ = await paid(world)
    _, _, _, hidden, _ = await paid(world)  # here, not there
    await world.gw.post(f"/sandbox/trades/{mismatched}/statement", json={"amount": "0.03"})
    await world.gw.post(f"/sandbox/trades/{hidden}/statement", json={"listed": False})
    today = to_shanghai(world.ctx.clock.now()).date()

    report = await reconcile(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.gateways, "alipay", today)
    kinds = {f.out_trade_no: f.kind for f in report.findings}
    assert kinds == {missed: "settled", mismatched: "amount_mismatch", hidden: "missing_there"}
    assert report.matched == 1 and report.lines == 3
    assert await world.scalar(select(orders.c.status).where(orders.c.order_id == missed_order)) == "paid"
    assert await world.scalar(select(payments.c.source).where(payments.c.order_id == missed_order)) == "reconciliation"
    assert len(await world.events("PaymentConfirmed")) == 4

    async with world.ctx.sessions() as session:
        run = (await session.execute(select(reconciliation_runs))).one()
        stored = (
            await session.execute(
                select(reconciliation_findings.c.kind, reconciliation_findings.c.gateway_amount_fen, reconciliation_findings.c.our_amount_fen)
            )
        ).all()
    assert run.status == "completed" and run.summary["settled"] == 1 and run.summary["amount_mismatch"] == 1
    assert ("amount_mismatch", 3, 2) in stored

    # A second run finds the settled one matched now; nothing is settled twice.
    second = await reconcile(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.gateways, "alipay", today)
    assert {f.kind for f in second.findings} == {"amount_mismatch", "missing_there"} and second.matched == 2
    assert len(await world.events("PaymentConfirmed")) == 4


async def test_y5_payease_day_list_reconciliation_and_the_daily_job(world):
    _, _, order_id, out_trade_no, _ = await paid(world, "payease", "abc", notify=False)
    today = to_shanghai(world.ctx.clock.now()).date()
    report = await reconcile(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.gateways, "payease", today)
    assert [(f.kind, f.out_trade_no) for f in report.findings] == [("settled", out_trade_no)]
    # The daily job reconciles yesterday once per gateway (payease was done above), however often it wakes.
    next_morning = datetime.combine(today + timedelta(days=1), time(9, 0), tzinfo=SHANGHAI)
    world.ctx.clock.set(next_morning)
    assert await reconcile_yesterday_if_due(world.ctx.unit_of_work, world.ctx.clock, world.ctx.settings, world.ctx.gateways) == 0, (
        "not before the statement is out"
    )
    world.ctx.clock.set(next_morning + timedelta(hours=2))
    runs = await asyncio.gather(
        *(reconcile_yesterday_if_due(world.ctx.unit_of_work, world.ctx.clock, world.ctx.settings, world.ctx.gateways) for _ in range(3))
    )
    assert sum(runs) == 1 and await reconcile_yesterday_if_due(world.ctx.unit_of_work, world.ctx.clock, world.ctx.settings, world.ctx.gateways) == 0
    async with world.ctx.sessions() as session:
        days = (await session.execute(select(reconciliation_runs.c.gateway, reconciliation_runs.c.bill_date))).all()
    assert sorted(days) == [("alipay", today), ("payease", today)]


async def test_y5_support_refreshing_an_unknown_registration_is_404_not_an_empty_list(world):
    """Issue 13: an unknown registration id is 404 for every role; support's 更新 used to answer `200 []`."""
    agent = uuid.uuid4().hex.upper()
    for path in (f"/registrations/{uuid.uuid4()}/refresh", f"/registrations/{uuid.uuid4()}/orders"):
        method = world.api.post if path.endswith("refresh") else world.api.get
        response = await method(path, headers=world.headers(agent, "support"))
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "registration_not_found"
