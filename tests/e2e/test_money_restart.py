"""Issue 14.2 — never money without a subject (Y3): the payment sandbox is restarted between two
payments (its memory gone, as after `make down` / `make up`), payment after it (the sandbox's new
Alipay key); both orders end paid, under different trade numbers. Real processes, real Kafka."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from cet_stack import Stack
from e2e_clients import User, pay_in_the_sandbox, wait_until
from test_money_paying_fast import crowd_of_a_school

pytestmark = pytest.mark.kafka


async def test_y3_the_sandbox_restarted_between_two_payments_and_both_orders_end_paid(stack: Stack, staff: dict[str, User], open_session: uuid.UUID) -> None:
    assert {"enrolment", "payment"} <= set(stack.services)
    crowd = await crowd_of_a_school(stack, staff["ops"], open_session, "99411", 2)

    async def pay(i: int) -> tuple[str, str]:
        enrolled = await crowd.request(i, "POST", "/api/enrolment/me/written", json={"subject_codes": ["1"]})
        assert enrolled.status_code == 201, enrolled.text
        order = await crowd.request(i, "POST", "/api/payment/orders", json={"enrolment_ids": enrolled.json()["enrolment_ids"]})
        assert order.status_code == 201, order.text
        checkout = await crowd.request(i, "POST", f"/api/payment/orders/{order.json()['order_id']}/checkout", json={"gateway": "alipay"})
        assert checkout.status_code == 200, checkout.text
        out_trade_no = await pay_in_the_sandbox(stack, checkout.json())

        async def paid() -> bool:
            return (await crowd.request(i, "GET", f"/api/payment/orders/{order.json()['order_id']}")).json()["status"] == "paid"

        await wait_until(paid, timeout=60, interval=0.3, what=f"order {i} to be paid")
        async with httpx.AsyncClient(base_url=stack.url("sandbox"), timeout=10) as sandbox:
            trade = (await sandbox.get(f"/sandbox/trades/{out_trade_no}")).json()
        return order.json()["order_id"], trade["trade_no"]

    first_order, first_trade_no = await pay(0)
    for name in ("payment-sandbox", "payment-api", "payment-worker"):  # the sandbox first: it writes the key payment reads
        await asyncio.to_thread(stack.procs[name].restart)
    second_order, second_trade_no = await pay(1)
    assert first_trade_no != second_trade_no, "trade numbers stay unique across the sandbox's restart"
    answers = [await crowd.request(i, "GET", f"/api/payment/orders/{o}") for i, o in ((0, first_order), (1, second_order))]
    assert [a.json()["status"] for a in answers] == ["paid", "paid"]
    await crowd.close()
