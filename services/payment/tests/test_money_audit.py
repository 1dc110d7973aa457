"""Issue 15 in payment: every money movement leaves an audit row in the transaction that moves
the money: a payment recorded (by whoever's request settled it), a refund asked and completed."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from cet_shared.audit import audit_log
from cet_shared.events.contracts import RefundRequired
from payment.service.refunds import process_pending


async def audit_rows(world) -> list[dict]:
    async with world.ctx.sessions() as session:
        return [dict(r) for r in (await session.execute(select(audit_log).order_by(audit_log.c.id))).mappings()]


async def test_y4_y5_payment_refund_and_their_actors_are_in_the_audit_trail(world) -> None:
    passport_id, registration_id, enrolment_ids = await world.registration(fees=(1, 1))
    order = await world.order(passport_id, enrolment_ids)
    out_trade_no = await world.pay(await world.checkout(passport_id, order["order_id"], "alipay", None), notify=False)
    agent = uuid.uuid4().hex.upper()
    settled = await world.api.post(
        f"/registrations/{registration_id}/refresh", headers={**world.headers(agent, "support"), "x-request-id": "support-refresh-01"}
    )
    assert settled.status_code == 200 and settled.json()[0]["settled_now"] is True

    asked, recorded = await audit_rows(world)
    assert (asked["kind"], asked["actor_id"], asked["after"]) == ("payment.refresh_requested", agent, {"unpaid_attempts": [out_trade_no]})
    assert (recorded["kind"], recorded["actor_id"], recorded["actor_role"], recorded["request_id"]) == (
        "payment.recorded",
        agent,
        "support",
        "support-refresh-01",
    )
    assert recorded["candidate"] == passport_id and recorded["before"] == {"status": "open"}
    assert recorded["after"] | {"payment_id": None} == {
        "payment_id": None,
        "amount_fen": 2,
        "gateway": "alipay",
        "transaction_id": world.sandbox.trades[out_trade_no].trade_no,
        "source": "query",
        "surplus": False,
    }

    event = RefundRequired(
        order_id=uuid.UUID(order["order_id"]), registration_id=registration_id, enrolment_ids=enrolment_ids, amount_fen=2, reason="late_payment_no_seat"
    )
    await world.feed(event, key=str(registration_id))
    assert await process_pending(world.ctx.unit_of_work(), world.ctx.clock, world.ctx.settings, world.ctx.gateways) == 1
    kinds = [(r["kind"], r["actor_id"], r["after"].get("amount_fen")) for r in await audit_rows(world)]
    assert kinds == [
        ("payment.refresh_requested", agent, None),
        ("payment.recorded", agent, 2),
        ("refund.requested", "system", 2),
        ("refund.completed", "system", 2),
    ]
    ops = world.headers(uuid.uuid4().hex.upper(), "ops")
    page = (await world.api.get("/ops/audit", params={"candidate": passport_id}, headers=ops)).json()
    assert [r["kind"] for r in page["items"]] == ["payment.recorded"], "a filter is exact: rows naming the candidate only"
    assert (await world.api.get("/ops/audit", headers=world.headers(passport_id))).status_code == 403
