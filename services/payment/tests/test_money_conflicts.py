"""Issue 14.2 — never money without a subject (Y3, Y5): a verified report whose transaction id is
already recorded for another order is a conflict, not a duplicate. Real PostgreSQL, the sandbox
in-process; the sandbox's tester controls make it reuse a number, lie or fail."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from cet_shared.clock import to_shanghai
from payment.db.tables import orders, payment_conflicts, payments, reconciliation_findings
from payment.service.alerts import ALERTS
from payment.service.reconciliation import reconcile


async def open_order(world, gateway: str = "alipay", bank: str | None = None):
    passport_id, registration_id, enrolment_ids = await world.registration(fees=(1,))
    order = await world.order(passport_id, enrolment_ids[:1])
    checkout = await world.checkout(passport_id, order["order_id"], gateway, bank)
    return passport_id, registration_id, uuid.UUID(order["order_id"]), checkout


async def status_of(world, order_id: uuid.UUID) -> str:
    return await world.scalar(select(orders.c.status).where(orders.c.order_id == order_id))


async def test_y3_the_sandbox_restarted_between_two_payments_and_both_orders_end_paid(world):
    """Trade numbers stay unique across a sandbox restart (they were numbered from 1 again)."""
    _, _, first, checkout = await open_order(world)
    out_trade_no = await world.pay(checkout)
    await world.wait_delivered(out_trade_no)
    first_trade_no = world.sandbox.trades[out_trade_no].trade_no

    await world.restart_sandbox()
    _, _, second, checkout = await open_order(world)
    out_trade_no = await world.pay(checkout)
    [delivery] = await world.wait_delivered(out_trade_no)
    assert delivery.answer == "success"
    assert world.sandbox.trades[out_trade_no].trade_no != first_trade_no
    assert (await status_of(world, first), await status_of(world, second)) == ("paid", "paid")
    assert await world.count(payment_conflicts) == 0


async def test_y3_a_notification_reusing_another_orders_transaction_id_is_a_conflict_settled_by_the_query(world, caplog):
    """The notification names order B but carries order A's transaction id: recorded, raised as a
    finding and an alert, and B is paid once the gateway's own query confirms B's payment."""
    _, _, order_a, checkout_a = await open_order(world)
    trade_a = world.sandbox.trades[await world.pay(checkout_a)]
    await world.wait_delivered(trade_a.out_trade_no)
    _, _, order_b, checkout_b = await open_order(world)
    no_b = await world.pay(checkout_b, notify=False)  # paid at the gateway, its own notice lost
    alerts_before = ALERTS["payment_conflict"]

    with caplog.at_level(logging.ERROR, logger="payment.alerts"):
        sent = await world.gw.post(f"/sandbox/trades/{no_b}/notify", json={"trade_no": trade_a.trade_no})
    assert sent.json()["answer"] == "success", "settled: the gateway may stop"
    assert await status_of(world, order_b) == "paid", "the candidate's money bought the subject"
    [conflict] = await _conflicts(world)
    assert (conflict.order_id, conflict.existing_order_id, conflict.transaction_id, conflict.status) == (order_b, order_a, trade_a.trade_no, "settled")
    paid_b = await world.scalar(select(payments.c.transaction_id).where(payments.c.order_id == order_b))
    assert paid_b == world.sandbox.trades[no_b].trade_no, "applied under the number the gateway's query gives"
    finding = await world.scalar(select(reconciliation_findings.c.kind).where(reconciliation_findings.c.out_trade_no == no_b))
    assert finding == "transaction_conflict"
    assert ALERTS["payment_conflict"] == alerts_before + 1
    assert any("ALERT payment_conflict" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert len(await world.events("PaymentConfirmed")) == 2 and await status_of(world, order_a) == "paid"


async def _conflicts(world):
    async with world.ctx.sessions() as session:
        return (await session.execute(select(payment_conflicts).order_by(payment_conflicts.c.id))).all()


async def test_y5_an_unconfirmed_conflict_goes_to_support_keeps_the_gateway_retrying_and_reconciliation_settles_it(world):
    """The query fails: the conflict is handed to support and the gateway told to retry — never
    answered as done and forgotten; the next reconciliation run settles it once the query works."""
    _, _, order_a, checkout_a = await open_order(world)
    trade_a = world.sandbox.trades[await world.pay(checkout_a)]
    await world.wait_delivered(trade_a.out_trade_no)
    _, _, order_b, checkout_b = await open_order(world)
    no_b = await world.pay(checkout_b, notify=False)

    assert (await world.gw.post(f"/sandbox/trades/{no_b}/query-fault", json={"mode": "fail"})).status_code == 200
    sent = await world.gw.post(f"/sandbox/trades/{no_b}/notify", json={"trade_no": trade_a.trade_no})
    assert sent.json()["answer"] == "fail", "not settled: the gateway must try again"
    [conflict] = await _conflicts(world)
    assert conflict.status == "support" and "trade query failed" in conflict.resolution
    assert await status_of(world, order_b) == "open"
    again = await world.gw.post(f"/sandbox/trades/{no_b}/notify", json={"trade_no": trade_a.trade_no})
    assert again.json()["answer"] == "fail"
    [conflict] = await _conflicts(world)
    assert conflict.times_seen == 2

    agent = uuid.uuid4().hex.upper()
    queue = await world.api.get("/conflicts", params={"status": "support"}, headers=world.headers(agent, "support"))
    assert [c["out_trade_no"] for c in queue.json()] == [no_b], "support's work queue"
    assert (await world.api.get("/conflicts", headers=world.headers(agent))).status_code == 403, "candidates do not see it"
    retried = await world.api.post(f"/conflicts/{conflict.id}/settle", headers=world.headers(agent, "support"))
    assert (retried.json()["status"], retried.json()["resolved_by"]) == ("support", agent), "still failing; who asked is kept"

    await world.gw.post(f"/sandbox/trades/{no_b}/query-fault", json={"mode": "none"})
    report = await reconcile(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.gateways, "alipay", to_shanghai(world.sandbox.clock.now()).date())
    assert await status_of(world, order_b) == "paid"
    [conflict] = await _conflicts(world)
    assert conflict.status == "settled"
    assert "conflict_settled" in report.counts()


async def test_y5_reconciliation_finds_and_settles_a_gateway_paid_order_still_open_under_a_reused_number(world):
    """What the old sandbox did after `make down`/`make up`: order B was paid under a trade number
    already recorded for order A, its notifications lost. The statement lists it; the run does not
    call it matched, the gateway's query confirms it, and B ends paid."""
    _, _, order_a, checkout_a = await open_order(world)
    trade_a = world.sandbox.trades[await world.pay(checkout_a)]
    await world.wait_delivered(trade_a.out_trade_no)
    _, _, order_b, checkout_b = await open_order(world)
    no_b = await world.pay(checkout_b, notify=False)
    world.sandbox.trades[no_b].trade_no = trade_a.trade_no  # the number a restarted sandbox handed out again
    assert await status_of(world, order_b) == "open"

    day = to_shanghai(world.sandbox.clock.now()).date()
    report = await reconcile(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.gateways, "alipay", day)
    assert await status_of(world, order_b) == "paid", report.findings
    assert report.matched == 1 and "conflict_settled" in report.counts(), report.findings
    [conflict] = await _conflicts(world)
    assert (conflict.source, conflict.status, conflict.existing_order_id) == ("reconciliation", "settled", order_a)
    # Both payments are now known under the gateway's number; a second run finds nothing new.
    again = await reconcile(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.gateways, "alipay", day)
    assert again.matched == 2 and set(again.counts()) == {"lines", "matched"}, again.findings
    assert await status_of(world, order_a) == "paid"
