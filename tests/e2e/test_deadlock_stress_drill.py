"""Issue 10's deadlock stress drill, on the fault drills' stack with a short unpaid lifetime
(ENROLMENT_UNPAID_LIFETIME): 200 candidates of one campus grab its oral seats, cancel, let their
holds expire and pay late while enrolment's consumer batches return and re-take seats (the
expiry sweep, the late PaymentConfirmed). Through the gateway, real processes, real PostgreSQL and
Kafka: 0 responses >= 500, 0 oversold, `remaining` exact at the end."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from drill_stack import Drill, bind_when_known, drill_stack, sql
from e2e_clients import pay_in_the_sandbox, wait_until
from test_drills import drill_school, enrol_written, known_to_enrolment, record

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]
LIFETIME = float(os.environ.get("CET_E2E_UNPAID_LIFETIME", "15"))
CANDIDATES, SEATS = 200, 40


@pytest.fixture(scope="module")
async def drill(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Drill]:
    async with drill_stack(tmp_path_factory.mktemp("stress"), enrolment_env={"ENROLMENT_UNPAID_LIFETIME": f"PT{int(LIFETIME)}S"}) as running:
        yield running


async def test_200_candidates_grab_cancel_expire_and_pay_late_on_one_campus_no_5xx_no_oversold_remaining_exact(drill: Drill) -> None:
    stack, ops = drill.stack, drill.ops
    crowd, identities, offering_id = await drill_school(stack, ops, drill.session_id, "99518", CANDIDATES, SEATS)
    everyone = list(range(CANDIDATES))
    await bind_when_known(crowd, identities, everyone)
    await known_to_enrolment(crowd, everyone, timeout=180)
    await enrol_written(crowd, everyone)
    statuses: Counter[int] = Counter()
    late: list[dict] = []  # holds paid in their last seconds
    closed: list[int] = []  # ... or too late: the platform had closed the trade
    paying = [0]
    rng = random.Random(10)

    async def call(i: int, method: str, path: str, **kw):
        r = await crowd.request(i, method, path, **kw)
        statuses[r.status_code] += 1
        return r

    async def candidate(i: int, until: float) -> None:
        while time.monotonic() < until:
            r = await call(i, "POST", "/api/enrolment/me/oral", json={"offering_id": offering_id})
            if r.status_code != 201:
                await asyncio.sleep(rng.uniform(0.2, 1.0))  # full: try again, as people do
                continue
            [oral_id] = r.json()["enrolment_ids"]
            held_at = time.monotonic()
            choice = rng.random()
            if choice < 0.45:  # changes their mind
                await asyncio.sleep(rng.uniform(0, 2))
                await call(i, "DELETE", f"/api/enrolment/me/enrolments/{oral_id}")
            elif choice < 0.6 and paying[0] < 30:  # opens the payment page, pays at the last moment
                paying[0] += 1

                async def order():
                    o = await call(i, "POST", "/api/payment/orders", json={"enrolment_ids": [oral_id]})
                    return o if o.status_code in (200, 201) else None

                made = (await wait_until(order, timeout=30, what="payment to learn the oral subject")).json()
                checkout = await call(i, "POST", f"/api/payment/orders/{made['order_id']}/checkout", json={"gateway": "alipay"})
                if checkout.status_code != 200:
                    return
                # pays in the hold's last seconds: the confirmation meets the expiry sweep
                await asyncio.sleep(max(0.0, held_at + LIFETIME - rng.uniform(1, 4) - time.monotonic()))
                try:
                    await pay_in_the_sandbox(stack, checkout.json())
                    late.append({"candidate": i, "oral_id": oral_id})
                except AssertionError:  # the platform had closed the trade with the hold: too late to pay
                    closed.append(i)
                return
            else:  # forgets it: the sweep expires it after LIFETIME
                return

    started = time.monotonic()
    await asyncio.gather(*(candidate(i, started + LIFETIME * 3) for i in everyone))

    async def due_expired() -> bool:
        return not await sql(
            stack, "enrolment", "SELECT 1 FROM enrolments WHERE offering_id = $1::uuid AND status = 'held' AND expires_at < now()", offering_id
        )

    await wait_until(due_expired, timeout=60, what="the sweep to expire every due hold")
    # the seats the sweep returned are grabbed again
    await asyncio.gather(*(candidate(i, time.monotonic() + LIFETIME) for i in everyone if i not in {p["candidate"] for p in late}))

    async def settled() -> bool:  # each late payment honoured (paid) or refunded, and every due hold expired
        rows = await sql(stack, "enrolment", "SELECT status FROM enrolments WHERE id = ANY($1::uuid[])", [p["oral_id"] for p in late])
        refunds = await sql(stack, "enrolment", "SELECT 1 FROM outbox WHERE event_type = 'RefundRequired'")
        return sum(r["status"] == "paid" for r in rows) + len(refunds) >= len(late) and await due_expired()

    await wait_until(settled, timeout=180, interval=1, what="every late payment honoured or refunded")
    # one statement, one snapshot: the sweep may expire a hold at any moment
    [seats] = await sql(
        stack,
        "enrolment",
        "SELECT o.capacity, o.remaining, count(e.id) FILTER (WHERE e.status = 'held') AS held, "
        "count(e.id) FILTER (WHERE e.status = 'paid') AS paid, count(e.id) FILTER (WHERE e.seat_held) AS seat_held "
        "FROM offerings o LEFT JOIN enrolments e ON e.offering_id = o.id WHERE o.id = $1::uuid GROUP BY o.id",
        offering_id,
    )
    offering = seats
    expired_then_paid = await sql(
        stack,
        "enrolment",
        "SELECT 1 FROM outbox WHERE event_type = 'SubjectExpired' AND envelope->'payload'->>'enrolment_id' = ANY($1::text[])",
        [p["oral_id"] for p in late],
    )
    by_status = {str(k): v for k, v in sorted(statuses.items())}
    oversold = max(0, seats["seat_held"] - offering["capacity"])
    server_errors = sum(v for k, v in statuses.items() if k >= 500)
    record(
        stack,
        "deadlock_stress",
        {
            "candidates": CANDIDATES,
            "seats": SEATS,
            "unpaid_lifetime_seconds": LIFETIME,
            "responses_by_status": by_status,
            "late_payments": len(late),
            "confirmed_after_the_sweep_expired_them": len(expired_then_paid),
            "trades_closed_before_paying": len(closed),
            "held_at_end": seats["held"],
            "paid_at_end": seats["paid"],
            "oversold": oversold,
            "remaining": offering["remaining"],
            "capacity_minus_live_holds_and_paid": offering["capacity"] - seats["seat_held"],
        },
    )
    assert server_errors == 0, by_status
    assert oversold == 0
    assert seats["seat_held"] == seats["held"] + seats["paid"], "a seat is held exactly by a live hold or a paid subject"
    assert offering["remaining"] == offering["capacity"] - seats["seat_held"], "remaining exact"
    assert statuses[201] > SEATS, "seats went round: returned and taken again"
    await crowd.close()
