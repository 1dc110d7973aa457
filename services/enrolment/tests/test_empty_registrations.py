"""E9's timer in enrolment: a registration bound 24 h ago with no held or paid subject is closed
to new subjects and eligibility is told once (RegistrationLeftEmpty); the race with a hold."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import text

from cet_shared.events.contracts import PaymentConfirmed
from enrolment.service.empty_registrations import close_empty_registrations


async def sweep(world) -> int:
    settings = world.ctx.settings
    return await close_empty_registrations(
        world.ctx.unit_of_work, world.ctx.clock, lifetime=settings.empty_registration_lifetime, batch_size=settings.release_batch_size
    )


async def left_empty(world) -> set[str]:
    return {event["key"] for event in await world.outbox("RegistrationLeftEmpty")}


async def test_e9_an_empty_registration_is_closed_after_24h_and_eligibility_told_once(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    world.ctx.clock.advance(timedelta(hours=23, minutes=59))
    assert await sweep(world) == 0
    world.ctx.clock.advance(timedelta(minutes=1))
    assert await sweep(world) == 1
    assert await sweep(world) == 0, "told once: a closed registration is not looked at again"
    (event,) = await world.outbox("RegistrationLeftEmpty")
    assert event["key"] == str(candidate.registration_id) and event["passport_id"] == candidate.passport_id
    refused = await candidate.written("1")
    assert refused.status_code == 409 and world.code(refused) == "registration_released", "no subject after the decision"


async def test_e9_the_lifetime_is_a_setting(world) -> None:
    world.ctx.settings.empty_registration_lifetime = timedelta(seconds=5)
    await world.open_session()
    await world.bind()
    world.ctx.clock.advance(timedelta(seconds=5))
    assert await sweep(world) == 1


async def test_e9_held_and_paid_subjects_keep_a_registration_cancelled_and_expired_ones_do_not(world) -> None:
    await world.open_session()
    held, paid, cancelled, expired = [await world.bind() for _ in range(4)]
    await held.written("1")
    paid_ids = (await paid.written("1")).json()["enrolment_ids"]
    await world.deliver(
        PaymentConfirmed(
            order_id=uuid.uuid4(),
            registration_id=paid.registration_id,
            passport_id=paid.passport_id,
            enrolment_ids=[uuid.UUID(i) for i in paid_ids],
            amount_fen=len(paid_ids),
            gateway="alipay",
            gateway_transaction_id=uuid.uuid4().hex,
            paid_at=world.ctx.clock.now(),
        ),
        key=str(paid.registration_id),
    )
    gone = (await cancelled.written("1")).json()["enrolment_ids"][0]
    assert (await cancelled.cancel(gone)).status_code == 204
    world.ctx.clock.advance(timedelta(hours=1))
    await expired.written("1")
    world.ctx.clock.advance(world.ctx.settings.unpaid_lifetime)
    assert await world.expire_due() >= 1  # expired's subject (and held's, enrolled an hour earlier)
    assert await world.scalar("SELECT status FROM enrolments WHERE registration_id = :r", r=expired.registration_id) == "expired"
    await held.written("1")  # held takes its subject again: active at the sweep
    assert await sweep(world) == 2
    assert await left_empty(world) == {str(cancelled.registration_id), str(expired.registration_id)}


async def test_e9_race_a_hold_in_flight_is_skipped_then_counted(world) -> None:
    """A hold's transaction holds the registration's row lock until it commits: the sweep skips
    that row (SKIP LOCKED) and, once the subject is committed, finds it active and keeps it."""
    await world.open_session()
    candidate = await world.bind()
    other = await world.bind()
    enrolment_id = (await candidate.written("1")).json()["enrolment_ids"][0]
    assert (await candidate.cancel(enrolment_id)).status_code == 204
    world.ctx.clock.advance(timedelta(hours=25))
    async with world.ctx.engine.connect() as hold:  # the statements of a hold, its commit held back
        await hold.execute(text("SELECT 1 FROM registrations WHERE registration_id = :r FOR UPDATE"), {"r": candidate.registration_id})
        await hold.execute(text("UPDATE enrolments SET status = 'held', seat_held = true WHERE id = :e"), {"e": uuid.UUID(enrolment_id)})
        assert await asyncio.wait_for(sweep(world), timeout=5) == 1, "the other, empty one; the locked one is skipped, not waited for"
        await hold.commit()
    assert await sweep(world) == 0, "after the commit the sweep sees the held subject"
    assert await left_empty(world) == {str(other.registration_id)}


async def test_e9_race_holds_fired_with_the_sweep_never_both(world) -> None:
    """A hold and the sweep at the same instant, many times: either the hold is taken and the
    registration kept, or it is closed (and eligibility told) and the hold refused — never a
    subject on a registration announced empty."""
    await world.open_session()
    outcomes = set()
    for _ in range(8):
        candidate = await world.bind()
        world.ctx.clock.advance(timedelta(hours=25))
        answer, closed = await asyncio.gather(candidate.written("1"), sweep(world))
        announced = str(candidate.registration_id) in await left_empty(world)
        active = await world.scalar("SELECT count(*) FROM enrolments WHERE registration_id = :r AND status = 'held'", r=candidate.registration_id)
        assert announced == bool(closed) == (answer.status_code == 409) == (active == 0), answer.text
        outcomes.add("closed" if closed else "kept")
    assert outcomes <= {"closed", "kept"}
