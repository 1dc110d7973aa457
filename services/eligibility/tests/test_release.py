"""E9: 24 h after saving, a registration with no active subject is released; the race with a
subject being enrolled while the release runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from cet_shared.events.contracts import SubjectCancelled, SubjectEnrolled, SubjectExpired, SubjectPaid
from cet_shared.events.envelope import EventEnvelope
from eligibility.db.tables import registration_subjects, registrations
from eligibility.events.consumers import build_consumers, set_subject_status
from eligibility.service.release import release_empty_registrations as release


def sweep(ctx):
    return release(ctx.unit_of_work(), ctx.clock, lifetime=ctx.settings.empty_registration_lifetime, batch_size=ctx.settings.release_batch_size)


def enrolled(registration_id: str, enrolment_id: uuid.UUID | None = None) -> SubjectEnrolled:
    return SubjectEnrolled(
        enrolment_id=enrolment_id or uuid.uuid4(),
        registration_id=uuid.UUID(registration_id),
        passport_id="X" * 32,
        subject_code="1",
        subject_name="英语四级笔试",
        campus_code="991010",
        fee_fen=1,
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def registration_count(ctx) -> int:
    async with ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(registrations))


async def test_e9_an_empty_registration_is_released_after_24h(world, client, ctx):
    await world.publish_session()
    headers, saved = await world.bound(world.LIAO)
    ctx.clock.advance(timedelta(hours=23, minutes=59))
    assert await sweep(ctx) == 0
    ctx.clock.advance(timedelta(minutes=1))
    assert await sweep(ctx) == 1
    assert await registration_count(ctx) == 0
    (event,) = await world.published("RegistrationReleased")
    assert event["key"] == saved["registration_id"] and event["payload"]["reason"] == "empty_24h"
    home = (await client.get("/home", headers=headers)).json()
    assert home["header_name"] == "未设置", "the binding is released: the candidate starts again"
    assert (await world.save(headers, world.LIAO)).status_code == 200, "the candidate can start again"


async def test_e9_the_lifetime_is_a_setting(world, ctx):
    ctx.settings.empty_registration_lifetime = timedelta(seconds=5)
    await world.publish_session()
    await world.bound(world.LIAO)
    ctx.clock.advance(timedelta(seconds=5))
    assert await sweep(ctx) == 1


async def test_e9_a_registration_with_an_active_subject_is_kept_and_one_with_only_gone_subjects_released(world, ctx):
    await world.publish_session()
    _, liao = await world.bound(world.LIAO)
    _, li_bo = await world.bound(world.LI_BO)
    _, yan = await world.bound(world.YAN)
    paid_id, gone_id, expired_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await world.deliver(enrolled(liao["registration_id"], paid_id), key=liao["registration_id"])
    await world.deliver(
        SubjectPaid(enrolment_id=paid_id, registration_id=uuid.UUID(liao["registration_id"]), order_id=uuid.uuid4()), key=liao["registration_id"]
    )
    await world.deliver(enrolled(li_bo["registration_id"], gone_id), key=li_bo["registration_id"])
    await world.deliver(SubjectCancelled(enrolment_id=gone_id, registration_id=uuid.UUID(li_bo["registration_id"])), key=li_bo["registration_id"])
    await world.deliver(enrolled(yan["registration_id"], expired_id), key=yan["registration_id"])
    await world.deliver(SubjectExpired(enrolment_id=expired_id, registration_id=uuid.UUID(yan["registration_id"])), key=yan["registration_id"])
    ctx.clock.advance(timedelta(hours=25))
    assert await sweep(ctx) == 2
    async with ctx.sessions() as session:
        kept = (await session.execute(select(registrations.c.id))).scalars().all()
    assert [str(k) for k in kept] == [liao["registration_id"]]
    released = {e["key"] for e in await world.published("RegistrationReleased")}
    assert released == {li_bo["registration_id"], yan["registration_id"]}


async def test_e9_a_redelivered_subject_event_counts_once(world, ctx):
    await world.publish_session()
    _, saved = await world.bound(world.LIAO)
    event = enrolled(saved["registration_id"])
    (consumer,) = [c for c in build_consumers(ctx) if c.group == "eligibility"]
    body = EventEnvelope.wrap(event, key=saved["registration_id"], producer="enrolment").model_dump_json().encode()
    await consumer.dispatch(body, topic=event.topic)
    await consumer.dispatch(body, topic=event.topic)
    assert consumer.applied == 1 and consumer.duplicates_dropped == 1
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(registration_subjects)) == 1


async def test_e9_race_a_subject_enrolled_while_the_release_runs_never_both(world, ctx):
    """The consumer recording SubjectEnrolled holds the registration's row lock; the sweeper
    skips a locked row, and once the subject is committed it finds an active subject: kept.
    The other order: the sweeper holds the lock and releases; the subject recorded after it
    finds no registration, and enrolment (on RegistrationReleased) cancels that unpaid subject."""
    await world.publish_session()
    _, liao = await world.bound(world.LIAO)
    _, li_bo = await world.bound(world.LI_BO)
    ctx.clock.advance(timedelta(hours=25))

    # Order 1: the subject's transaction is in flight (row locked, not yet committed).
    async with ctx.unit_of_work() as uow:
        await set_subject_status(uow, enrolment_id=uuid.uuid4(), registration_id=uuid.UUID(liao["registration_id"]), status="enrolled", at=ctx.clock.now())
        # Li Bo is free to release; Liao's row is locked and must not be.
        released_meanwhile = await asyncio.wait_for(sweep(ctx), timeout=5)
        await uow.commit()
    assert released_meanwhile == 1
    assert await sweep(ctx) == 0, "after the commit the sweeper sees the active subject"
    async with ctx.sessions() as session:
        assert [str(r) for r in (await session.execute(select(registrations.c.id))).scalars().all()] == [liao["registration_id"]]

    assert {e["key"] for e in await world.published("RegistrationReleased")} == {li_bo["registration_id"]}

    # Order 2: the sweeper's transaction holds the row lock (the same statements it runs); the
    # subject's consumer waits for it and, after the release commits, records the subject
    # against a registration that no longer exists.
    async with ctx.engine.connect() as sweeper:
        await sweeper.execute(text("SELECT id FROM registrations WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": uuid.UUID(liao["registration_id"])})
        late = asyncio.create_task(world.deliver(enrolled(liao["registration_id"]), key=liao["registration_id"]))
        await asyncio.sleep(0.3)
        assert not late.done(), "the subject waits for the sweeper's lock"
        await sweeper.execute(text("DELETE FROM registrations WHERE id = :id"), {"id": uuid.UUID(liao["registration_id"])})
        await sweeper.commit()
    await asyncio.wait_for(late, timeout=5)
    assert await registration_count(ctx) == 0


async def test_e9_race_fired_together_ends_consistent(world, ctx):
    """Release and SubjectEnrolled at the same instant, many times: either the registration is
    kept with its subject, or it is released (and announced) — never released while the
    projection had the subject committed before the sweeper's decision."""
    await world.publish_session()
    outcomes = set()
    for _ in range(6):
        headers = world.candidate()
        await world.agree(headers)
        saved = (await world.save(headers, world.LIAO)).json()
        ctx.clock.advance(timedelta(hours=25))
        event = enrolled(saved["registration_id"])
        released, _ = await asyncio.gather(sweep(ctx), world.deliver(event, key=saved["registration_id"]))
        async with ctx.sessions() as session:
            exists = await session.scalar(select(func.count()).select_from(registrations).where(registrations.c.id == uuid.UUID(saved["registration_id"])))
        announced = saved["registration_id"] in {e["key"] for e in await world.published("RegistrationReleased")}
        assert bool(released) == announced == (not exists)
        outcomes.add("released" if released else "kept")
        if exists:
            async with ctx.engine.begin() as connection:
                await connection.execute(text("DELETE FROM registrations"))
    assert outcomes <= {"released", "kept"}
