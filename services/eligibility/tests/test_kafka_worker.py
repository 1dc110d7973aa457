"""Events in and out against the real Kafka broker, through eligibility's real worker: exam
session and account events feed the projections; RegistrationBound and (E9, on enrolment's
RegistrationLeftEmpty) RegistrationReleased reach the broker through the outbox relay."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import jwt
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from cet_shared.events.contracts import (
    ELIGIBILITY_REGISTRATIONS,
    AccountRegistered,
    ExamSessionPublished,
    RegistrationLeftEmpty,
)
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.testing import KafkaProbe, kafka_bootstrap, running, unique_topic_prefix, wait_for
from eligibility.db.tables import accounts, exam_sessions, registrations
from eligibility.worker import build_worker

pytestmark = pytest.mark.kafka


async def send(producer: AIOKafkaProducer, prefix: str, event: Event, key: str) -> None:
    envelope = EventEnvelope.wrap(event, key=key, producer="test")
    await producer.send_and_wait(prefix + event.topic, json.dumps(envelope.model_dump(mode="json")).encode(), key=key.encode())


async def scalar(ctx, query):
    async with ctx.sessions() as session:
        return await session.scalar(query)


async def test_events_in_and_out_through_the_real_broker(world, client, ctx):
    prefix = unique_topic_prefix()
    ctx.settings.kafka_topic_prefix = prefix
    ctx.settings.kafka_bootstrap_servers = kafka_bootstrap()
    ctx.settings.outbox_poll_interval = timedelta(milliseconds=50)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
    await producer.start()
    headers = world.candidate()
    passport_id = jwt.decode(headers["authorization"].split()[1], options={"verify_signature": False})["sub"]
    session_id = uuid.uuid4()
    try:
        async with KafkaProbe(prefix + ELIGIBILITY_REGISTRATIONS) as probe, running(build_worker(ctx)):
            # In: the exam session (E5/E6 window) and the account's email (E11).
            now = ctx.clock.now()
            await send(
                producer,
                prefix,
                ExamSessionPublished(
                    exam_session_id=session_id, name="2017年上半年CET考试", registration_opens_at=now, registration_closes_at=now + timedelta(days=10)
                ),
                str(session_id),
            )
            await send(producer, prefix, AccountRegistered(passport_id=passport_id, email="liaoxiaoer@example.com", registered_at=now), passport_id)
            await wait_for(
                lambda: scalar(ctx, select(exam_sessions.c.name).where(exam_sessions.c.id == session_id)), timeout=30, what="the exam session projection"
            )
            await wait_for(
                lambda: scalar(ctx, select(accounts.c.email).where(accounts.c.passport_id == passport_id)), timeout=30, what="the account projection"
            )

            # Out: saving publishes RegistrationBound through the outbox relay.
            await world.agree(headers)
            saved = (await world.save(headers, world.LIAO)).json()
            registration_id = saved["registration_id"]
            (bound,) = await probe.wait_for("RegistrationBound")
            assert bound["key"] == registration_id and bound["payload"]["passport_id"] == passport_id
            record = next(r for r in probe.messages if json.loads(r.value)["event_type"] == "RegistrationBound")
            assert record.key.decode() == registration_id, "keyed by registration id: per-registration order"

            # In: enrolment found the registration empty past its lifetime (E9); out: the release.
            left = RegistrationLeftEmpty(registration_id=uuid.UUID(registration_id), passport_id=passport_id, bound_at=ctx.clock.now())
            await send(producer, prefix, left, registration_id)
            (released,) = await probe.wait_for("RegistrationReleased", timeout=30)
            assert released["key"] == registration_id and released["payload"]["passport_id"] == passport_id
            assert await scalar(ctx, select(registrations.c.id)) is None
    finally:
        await producer.stop()
