"""Issue 14.5 — the sandbox's tester controls, and the 更新 (Y5) and notification (Y3) rules proved
with them: drop, hold and reorder, delay, re-send, another amount or status, a failing or lying
trade query. The sandbox in-process, the real PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from cet_shared.testing import wait_for
from payment.db.tables import notifications, orders, payments


async def ordered(world, fees=(1,)):
    passport_id, registration_id, enrolment_ids = await world.registration(fees=fees)
    order = await world.order(passport_id, enrolment_ids[: len(fees)])
    checkout = await world.checkout(passport_id, order["order_id"])
    return passport_id, registration_id, uuid.UUID(order["order_id"]), checkout


async def status_of(world, order_id: uuid.UUID) -> str:
    return await world.scalar(select(orders.c.status).where(orders.c.order_id == order_id))


async def test_y5_refresh_against_a_failing_then_lying_then_honest_trade_query(world):
    passport_id, registration_id, order_id, checkout = await ordered(world)
    assert (await world.gw.post("/sandbox/notifications", json={"mode": "drop"})).json()["mode"] == "drop"
    out_trade_no = await world.pay(checkout)  # 确认付款 pressed; every notification dropped
    assert [d.kind for d in world.sandbox.deliveries] == ["dropped"]
    refresh = f"/registrations/{registration_id}/refresh"

    await world.gw.post(f"/sandbox/trades/{out_trade_no}/query-fault", json={"mode": "fail"})
    failed = await world.api.post(refresh, headers=world.headers(passport_id))
    assert failed.status_code == 503 and failed.json()["code"] == "gateway_unavailable"
    await world.gw.post(f"/sandbox/trades/{out_trade_no}/query-fault", json={"mode": "unpaid"})
    lied = await world.api.post(refresh, headers=world.headers(passport_id))
    assert lied.json()[0]["settled_now"] is False and await status_of(world, order_id) == "open"
    await world.gw.post(f"/sandbox/trades/{out_trade_no}/query-fault", json={"mode": "amount:0.05"})
    wrong_amount = await world.api.post(refresh, headers=world.headers(passport_id))
    assert wrong_amount.json()[0]["settled_now"] is False and await world.count(payments) == 0, "a query stating another amount settles nothing"
    await world.gw.post(f"/sandbox/trades/{out_trade_no}/query-fault", json={"mode": "none"})
    honest = await world.api.post(refresh, headers=world.headers(passport_id))
    assert honest.json()[0]["settled_now"] is True and await status_of(world, order_id) == "paid"


async def test_y3_held_notifications_released_in_reverse_a_resend_and_another_amount_or_status(world):
    await world.gw.post("/sandbox/notifications", json={"mode": "hold"})
    paid = []
    for _ in range(2):
        _, _, order_id, checkout = await ordered(world)
        paid.append((order_id, await world.pay(checkout)))
    assert world.sandbox.deliveries == [] and len(world.sandbox.controls.held) == 2
    assert (await world.gw.post("/sandbox/notifications/release", json={"order": "reverse"})).json()["released"] == 2
    await wait_for(lambda: len(world.sandbox.deliveries) >= 2, what="the released notifications")
    assert [d.out_trade_no for d in world.sandbox.deliveries] == [paid[1][1], paid[0][1]], "reordered"
    assert [await status_of(world, order_id) for order_id, _ in paid] == ["paid", "paid"]

    first = paid[0][1]
    resent = (await world.gw.post(f"/sandbox/trades/{first}/notify")).json()
    assert (resent["kind"], resent["answer"]) == ("manual", "success") and await world.count(payments) == 2, "a re-send is a duplicate"
    # the same transaction with another amount is a conflict, not a duplicate: the query confirms 0.01
    other_amount = (await world.gw.post(f"/sandbox/trades/{first}/notify", json={"amount": "0.05"})).json()
    assert other_amount["answer"] == "success" and await world.count(payments) == 2
    [conflict] = (await world.api.get("/conflicts", headers=world.headers(uuid.uuid4().hex.upper(), "support"))).json()
    assert (conflict["out_trade_no"], conflict["amount_fen"], conflict["existing_amount_fen"], conflict["status"]) == (first, 5, 1, "settled")
    closed = (await world.gw.post(f"/sandbox/trades/{first}/notify", json={"status": "TRADE_CLOSED"})).json()
    assert closed["answer"] == "success" and await world.count(payments) == 2
    async with world.ctx.sessions() as session:
        outcomes = list((await session.execute(select(notifications.c.outcome).order_by(notifications.c.id))).scalars())
    assert outcomes[-3:] == ["duplicate", "conflict_settled", "status_TRADE_CLOSED"]


async def test_y3_a_delayed_notification_still_settles_and_the_page_has_the_buttons(world):
    await world.gw.post("/sandbox/notifications", json={"delay_seconds": 0.3})
    _, _, order_id, checkout = await ordered(world)
    out_trade_no = await world.pay(checkout)
    assert await status_of(world, order_id) == "open", "not yet: the notification is delayed"
    await world.wait_delivered(out_trade_no)
    assert await status_of(world, order_id) == "paid"
    page = (await world.gw.get("/sandbox")).text
    for button in ("重发通知", "通知金额+0.01", "通知失败状态", "查询失败", "查询谎报未付", "通知：暂存", "通知：丢弃", "倒序发送暂存通知", "通知延迟5秒"):
        assert button in page, button
    via_button = await world.gw.post(f"/sandbox/trades/{out_trade_no}/query-fault", data={"mode": "fail"})
    assert via_button.status_code == 303 and world.sandbox.controls.query_fault(out_trade_no) == "fail"
    bad = await world.gw.post(f"/sandbox/trades/{out_trade_no}/query-fault", json={"mode": "explode"})
    assert bad.status_code == 422
