"""The outbox relay and the event consumer against the real Kafka broker."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import func, select

from cet_shared.db.tables import outbox
from cet_shared.events.contracts import ELIGIBILITY_REGISTRATIONS, RegistrationReleased
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer, create_broker, dead_letter_topic
from cet_shared.outbox import OutboxRelay, create_producer
from cet_shared.testing import KafkaProbe, kafka_bootstrap, unique_topic_prefix, wait_for

pytestmark = pytest.mark.kafka


def released(registration_id: uuid.UUID) -> RegistrationReleased:
    return RegistrationReleased(registration_id=registration_id, passport_id="A" * 32)


async def test_relay_keeps_per_key_commit_order_and_several_relays_publish_each_row_once(engine, unit_of_work):
    prefix = unique_topic_prefix()
    keys = [uuid.uuid4() for _ in range(5)]
    for round_ in range(40):
        async with unit_of_work() as uow:
            for key in keys:
                await uow.publish(RegistrationReleased(registration_id=key, passport_id=f"{round_:032d}"), key=str(key))
            await uow.commit()
    producers = [create_producer(kafka_bootstrap(), f"relay-{n}") for n in range(3)]
    for producer in producers:
        await producer.start()
    relays = [OutboxRelay(engine, producer, batch_size=37, poll_interval=0.05, topic_prefix=prefix) for producer in producers]
    async with KafkaProbe(prefix + ELIGIBILITY_REGISTRATIONS) as probe:
        tasks = [asyncio.create_task(relay.run()) for relay in relays]
        try:
            await probe.wait_for("RegistrationReleased", 200)
            await asyncio.sleep(0.5)
        finally:
            for relay in relays:
                relay.stop()
            await asyncio.gather(*tasks)
            for producer in producers:
                await producer.stop()
    assert sum(relay.published for relay in relays) == 200, "each row published once while no relay died"
    assert len(probe.messages) == 200
    for key in keys:
        rounds = [json.loads(m.value)["payload"]["passport_id"] for m in probe.messages if m.key == str(key).encode()]
        assert rounds == sorted(rounds), f"per-key order kept for {key}"
        assert len({m.partition for m in probe.messages if m.key == str(key).encode()}) == 1
    async with unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) == 0


class FlakyProducer:
    """A real producer behind a link that drops the first sends, like a broker that is down."""

    def __init__(self, producer, failures: int) -> None:
        self._producer = producer
        self.failures_left = failures

    async def send(self, *args, **kwargs):
        if self.failures_left:
            self.failures_left -= 1
            raise KafkaConnectionError("broker unreachable")
        return await self._producer.send(*args, **kwargs)


async def test_relay_keeps_events_while_kafka_fails_and_sends_them_once_it_is_back(engine, unit_of_work):
    prefix = unique_topic_prefix()
    registration_id = uuid.uuid4()
    async with unit_of_work() as uow:
        await uow.publish(released(registration_id), key=str(registration_id))
        await uow.commit()
    producer = create_producer(kafka_bootstrap(), "flaky")
    await producer.start()
    flaky = FlakyProducer(producer, failures=2)
    relay = OutboxRelay(engine, flaky, poll_interval=0.05, topic_prefix=prefix)
    try:
        async with KafkaProbe(prefix + ELIGIBILITY_REGISTRATIONS) as probe:
            task = asyncio.create_task(relay.run())
            await probe.wait_for("RegistrationReleased", timeout=30)
            # The probe can read the event before the relay has marked its row: a relay stopped in
            # between leaves the row for the next leader (a copy), which is not what this test is about.
            await wait_for(lambda: relay.published >= 1, timeout=30, what="the row marked published")
            relay.stop()
            await task
    finally:
        await producer.stop()
    assert flaky.failures_left == 0 and len(probe.messages) == 1
    async with unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) == 0


async def test_stopping_a_relay_that_waits_on_an_unreachable_broker_keeps_the_rows(engine, unit_of_work):
    async with unit_of_work() as uow:
        await uow.publish(released(uuid.uuid4()), key="k")
        await uow.commit()
    producer = create_producer("127.0.0.1:1", "unreachable")  # never started: every send waits
    relay = OutboxRelay(engine, producer, poll_interval=0.05)
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(0.5)
    relay.stop()
    await asyncio.wait_for(task, timeout=5)
    async with unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) == 1


async def test_poison_and_failing_messages_go_to_the_dead_letter_topic_and_the_consumer_goes_on(unit_of_work):
    prefix = unique_topic_prefix("dlq.dlq-test")
    topic = prefix + ELIGIBILITY_REGISTRATIONS
    applied: list[uuid.UUID] = []
    consumer = EventConsumer("dlq-test", unit_of_work, max_attempts=2, retry_delay=0.01)
    cursed = uuid.uuid4()

    @consumer.handles(RegistrationReleased)
    async def apply(uow, event, envelope):
        if event.registration_id == cursed:
            raise RuntimeError("a bug that fails every time")
        applied.append(event.registration_id)

    good = uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"\x00 definitely not an envelope", key=b"k")
        # each its own key: a dead letter parks its key's later events (cet_shared.dead_letters)
        for registration_id, key in ((cursed, "c"), (good, "g")):
            envelope = EventEnvelope.wrap(released(registration_id), key=key, producer="test")
            await producer.send_and_wait(topic, envelope.model_dump_json().encode(), key=key.encode())
    finally:
        await producer.stop()

    broker = create_broker(kafka_bootstrap(), "dlq-test")
    dead_letter_producer = create_producer(kafka_bootstrap(), "dlq-test")
    await dead_letter_producer.start()
    consumer.attach(broker, dead_letters=dead_letter_producer, topic_prefix=prefix)
    async with KafkaProbe(prefix + dead_letter_topic("dlq-test")) as dead_letters:
        await broker.start()
        try:
            await wait_for(lambda: applied, timeout=30, what="the good event after the poison ones")
            await wait_for(lambda: len(dead_letters.messages) >= 2, timeout=30, what="two dead letters")
        finally:
            await broker.stop()
            await dead_letter_producer.stop()
    assert applied == [good]
    reasons = sorted(dict(m.headers)["dlq-reason"].decode() for m in dead_letters.messages)
    assert reasons[0].startswith("RuntimeError") and reasons[1].startswith("unreadable envelope")
    assert consumer.dead_lettered == 2


async def test_trace_context_of_the_request_travels_with_the_event(engine, unit_of_work):
    from opentelemetry.sdk.trace import TracerProvider

    prefix = unique_topic_prefix()
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("POST /registrations") as span:
        async with unit_of_work() as uow:
            await uow.publish(released(uuid.uuid4()), key="k")
            await uow.commit()
        trace_id = format(span.get_span_context().trace_id, "032x")
    producer = create_producer(kafka_bootstrap(), "trace")
    await producer.start()
    relay = OutboxRelay(engine, producer, poll_interval=0.05, topic_prefix=prefix)
    async with KafkaProbe(prefix + ELIGIBILITY_REGISTRATIONS) as probe:
        task = asyncio.create_task(relay.run())
        try:
            await probe.wait_for("RegistrationReleased")
        finally:
            relay.stop()
            await task
            await producer.stop()
    headers = dict(probe.messages[0].headers)
    assert trace_id in headers["traceparent"].decode(), "W3C trace context in the Kafka headers"
