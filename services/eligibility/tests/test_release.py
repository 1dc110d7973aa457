"""E9, eligibility's part: told by enrolment that a registration stayed empty past its lifetime
(RegistrationLeftEmpty), eligibility deletes it and releases the binding, once. The timer and its
race with a subject being held are enrolment's (services/enrolment/tests/test_empty_registrations.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from cet_shared.events.contracts import RegistrationLeftEmpty
from cet_shared.events.envelope import EventEnvelope
from eligibility.db.tables import registrations
from eligibility.events.consumers import build_consumers


def left_empty(saved: dict, ctx) -> RegistrationLeftEmpty:
    return RegistrationLeftEmpty(registration_id=uuid.UUID(saved["registration_id"]), passport_id="X" * 32, bound_at=ctx.clock.now())


async def registration_count(ctx) -> int:
    async with ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(registrations))


async def test_e9_a_registration_left_empty_is_deleted_and_the_binding_released(world, client, ctx):
    await world.publish_session()
    headers, saved = await world.bound(world.LIAO)
    _, kept = await world.bound(world.LI_BO)
    await world.deliver(left_empty(saved, ctx), key=saved["registration_id"])
    assert await registration_count(ctx) == 1, "only the registration enrolment found empty"
    (event,) = await world.published("RegistrationReleased")
    assert event["key"] == saved["registration_id"] and event["payload"]["reason"] == "empty_24h"
    assert event["payload"]["passport_id"] != "X" * 32, "the binding eligibility holds is released, whatever the notice says"
    home = (await client.get("/home", headers=headers)).json()
    assert home["header_name"] == "未设置", "the binding is released: the candidate starts again"
    assert (await world.save(headers, world.LIAO)).status_code == 200, "the candidate can start again"


async def test_e9_a_redelivered_notice_releases_once(world, ctx):
    await world.publish_session()
    _, saved = await world.bound(world.LIAO)
    event = left_empty(saved, ctx)
    (consumer,) = [c for c in build_consumers(ctx) if c.group == "eligibility"]
    body = EventEnvelope.wrap(event, key=saved["registration_id"], producer="enrolment").model_dump_json().encode()
    await consumer.dispatch(body, topic=event.topic)
    await consumer.dispatch(body, topic=event.topic)
    assert consumer.applied == 1 and consumer.duplicates_dropped == 1
    # A second notice under another event id (enrolment re-sent after a crash) finds nothing to release.
    await world.deliver(event, key=saved["registration_id"])
    assert await registration_count(ctx) == 0
    assert len(await world.published("RegistrationReleased")) == 1
