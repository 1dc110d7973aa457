"""Forged notifications cannot grow the payment database without bound (issue 13): per sending
address, at most `notify_rejected_per_source` rejected notifications a window are stored, each cut
to `notify_rejected_body_bytes`; beyond, 429 and nothing stored. Real, signed ones always pass."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlencode

from sqlalchemy import func, select

from payment.db.tables import notifications

FLOOD = 10_000
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def stored(world) -> tuple[int, int]:
    rows = await world.count(notifications)
    body_bytes = await world.scalar(select(func.coalesce(func.sum(func.octet_length(notifications.c.body)), 0)))
    return rows, int(body_bytes)


async def test_a_flood_of_forged_notifications_stores_a_bounded_amount_and_real_ones_pass(world):
    settings = world.ctx.settings
    forged = urlencode({"out_trade_no": "X", "trade_status": "TRADE_SUCCESS", "sign": "forged", "pad": os.urandom(3000).hex()})
    rows_before, bytes_before = await stored(world)
    answers: list[int] = []
    for _ in range(0, FLOOD, 100):
        batch = await asyncio.gather(*(world.api.post("/notify/alipay", content=forged, headers=FORM) for _ in range(100)))
        answers += [a.status_code for a in batch]
    rows, body_bytes = await stored(world)
    rows, body_bytes = rows - rows_before, body_bytes - bytes_before
    # The flood may straddle two fixed windows: at most twice the limit is stored.
    bound_rows = 2 * settings.notify_rejected_per_source
    bound_bytes = bound_rows * settings.notify_rejected_body_bytes
    print(
        f"{FLOOD} forged notifications ({len(forged)} bytes each): {rows} rows, {body_bytes} body bytes stored "
        f"(bound {bound_rows} rows, {bound_bytes} bytes); {answers.count(429)} answered 429"
    )
    assert rows <= bound_rows and body_bytes <= bound_bytes
    assert answers.count(429) >= FLOOD - bound_rows and set(answers) <= {200, 429}, "never a 500"

    # A real notification from the same address still passes, flood or not.
    order = await world.registration()
    passport_id, _, enrolments = order
    placed = await world.order(passport_id, list(enrolments))
    checkout = await world.checkout(passport_id, placed["order_id"], "alipay", None)
    out_trade_no = await world.pay(checkout, notify=False)
    body, _ = world.sandbox.notification_body(world.sandbox.trades[out_trade_no])
    real = await world.api.post("/notify/alipay", content=body, headers=FORM)
    assert real.status_code == 200 and real.text == "success", real.text


async def test_rejected_notifications_are_pruned_after_the_retention_setting_and_verified_ones_kept(world):
    """Issue 13: stored forged bodies go after `notify_rejected_retention` (the worker's
    `rejected-notifications` job); a verified notification is the money's trail and stays."""
    from payment.service.notify_retention import prune_rejected_notifications
    from payment.worker import build_worker

    assert "rejected-notifications" in [job.name for job in build_worker(world.ctx)._jobs]
    passport_id, _, enrolments = await world.registration()
    placed = await world.order(passport_id, list(enrolments))
    out_trade_no = await world.pay(await world.checkout(passport_id, placed["order_id"], "alipay", None), notify=False)
    body, _ = world.sandbox.notification_body(world.sandbox.trades[out_trade_no])
    assert (await world.api.post("/notify/alipay", content=body, headers=FORM)).text == "success"
    forged = await world.api.post("/notify/alipay", content="out_trade_no=X&sign=forged", headers=FORM)
    assert forged.text == "fail"
    rejected = notifications.c.verified.is_(False)
    assert await world.scalar(select(func.count()).where(rejected)) >= 1

    world.ctx.clock.advance(world.ctx.settings.notify_rejected_retention / 2)
    assert await prune_rejected_notifications(world.ctx.sessions, world.ctx.clock, world.ctx.settings) == 0, "younger than the retention: kept"
    world.ctx.clock.advance(world.ctx.settings.notify_rejected_retention)
    assert await prune_rejected_notifications(world.ctx.sessions, world.ctx.clock, world.ctx.settings) >= 1
    assert await world.scalar(select(func.count()).where(rejected)) == 0
    assert await world.scalar(select(func.count()).where(notifications.c.verified.is_(True))) >= 1
