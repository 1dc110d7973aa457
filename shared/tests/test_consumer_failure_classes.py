"""The consumer under real faults (issue 10): a database that goes away is waited out, a poison
event is dead-lettered alone and parks its key until `dlq replay` (real Kafka, real PostgreSQL,
a real TCP proxy between them)."""

from __future__ import annotations

import json
import uuid
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from cet_shared import dlq_admin
from cet_shared.db import UnitOfWork, create_engine, create_session_factory
from cet_shared.events.contracts import ELIGIBILITY_REGISTRATIONS, RegistrationReleased
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer, create_broker, dead_letter_topic
from cet_shared.outbox import create_producer
from cet_shared.testing import KafkaProbe, kafka_bootstrap, unique_topic_prefix, wait_for
from cet_shared.toxiproxy import Toxiproxy

pytestmark = pytest.mark.kafka


def numbered(key: uuid.UUID, n: int) -> RegistrationReleased:
    return RegistrationReleased(registration_id=key, passport_id=f"{n:032d}")


async def applied_log(engine) -> dict[str, list[int]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT key, n FROM applied_events ORDER BY seq"))).all()
    out: dict[str, list[int]] = {}
    for key, n in rows:
        out.setdefault(key, []).append(n)
    return out


def recording_consumer(group: str, unit_of_work, poisoned: set[int]) -> EventConsumer:
    consumer = EventConsumer(group, unit_of_work, max_attempts=2, retry_delay=0.01, backoff_cap=1.0)

    @consumer.handles(RegistrationReleased)
    async def apply(uow: UnitOfWork, event: RegistrationReleased, envelope: EventEnvelope) -> None:
        n = int(event.passport_id)
        if n in poisoned:
            raise ValueError(f"event {n} cannot be applied by this version")
        await uow.session.execute(text("INSERT INTO applied_events (key, n) VALUES (:k, :n)"), {"k": str(event.registration_id), "n": n})

    return consumer


@pytest.fixture
async def applied_table(engine):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS applied_events (seq bigserial PRIMARY KEY, key text NOT NULL, n int NOT NULL)"))
        await connection.execute(text("TRUNCATE applied_events"))
    yield


async def send(topic: str, events: list[tuple[str, bytes]], headers: list | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
    await producer.start()
    try:
        for key, body in events:
            await producer.send_and_wait(topic, body, key=key.encode(), headers=headers or [])
    finally:
        await producer.stop()


def body(event: RegistrationReleased, *, version: int | None = None) -> bytes:
    envelope = EventEnvelope.wrap(event, key=str(event.registration_id), producer="test").model_dump(mode="json")
    if version is not None:
        envelope["version"] = version
    return json.dumps(envelope).encode()


@asynccontextmanager
async def consuming(consumer: EventConsumer, prefix: str):
    broker = create_broker(kafka_bootstrap(), consumer.group)
    dead_letters = create_producer(kafka_bootstrap(), consumer.group)
    await dead_letters.start()
    consumer.attach(broker, dead_letters=dead_letters, topic_prefix=prefix)
    await broker.start()
    try:
        yield consumer
    finally:
        await broker.stop()
        await dead_letters.stop()


async def test_a_database_outage_during_a_batch_is_waited_out_in_order_and_nothing_is_dead_lettered(database_url, engine, applied_table, tmp_path):
    """The issue's finding: a unit of work failing for 2 s sent events 1–2 of a key to the DLQ and
    applied event 3. Here the link to PostgreSQL is cut (real TCP, Toxiproxy) for 2 s while the
    consumer holds a batch: every event is applied once, in order, and nothing is dead-lettered."""
    import asyncio

    prefix = unique_topic_prefix("dlq.outage")
    key = uuid.uuid4()
    with Toxiproxy(tmp_path / "toxiproxy.log") as toxiproxy:
        pg = toxiproxy.proxy("pg", database_url.split("@", 1)[1].split("/", 1)[0])
        proxied = create_engine(database_url.replace(pg.upstream, pg.address), pool_size=2)
        sessions = create_session_factory(proxied)
        consumer = recording_consumer("outage", lambda: UnitOfWork(sessions, producer="test"), poisoned=set())
        await send(prefix + ELIGIBILITY_REGISTRATIONS, [(str(key), body(numbered(key, n))) for n in range(1, 7)])
        pg.cut()
        async with KafkaProbe(prefix + dead_letter_topic("outage")) as dlq, consuming(consumer, prefix):
            await wait_for(lambda: consumer.transient_failures >= 2, timeout=30, what="the consumer to meet the outage")
            await asyncio.sleep(2)  # the outage lasts 2 s, as in the finding
            pg.heal()
            await wait_for(lambda: consumer.applied >= 6, timeout=30, what="every event once the database is back")
        await proxied.dispose()
    assert (await applied_log(engine))[str(key)] == [1, 2, 3, 4, 5, 6]
    assert consumer.dead_lettered == 0 and dlq.messages == []
    print(f"\n[figures] db_outage_consumer: transient_failures={consumer.transient_failures} applied={consumer.applied} dead_letters=0")


async def test_a_poison_event_is_dead_lettered_alone_its_key_is_parked_and_replay_applies_the_rest_once_in_order(
    database_url, engine, unit_of_work, applied_table
):
    prefix = unique_topic_prefix("dlq.poison")
    topic = prefix + ELIGIBILITY_REGISTRATIONS
    poisoned = {2}
    stuck, other, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    consumer = recording_consumer("poison", unit_of_work, poisoned)
    events = [(str(stuck), body(numbered(stuck, n))) for n in (1, 2, 3, 4)]
    events += [(str(other), body(numbered(other, n))) for n in (11, 12)]
    events += [(str(unknown), body(numbered(unknown, 1), version=99))]  # a contract version we do not know
    await send(topic, events, headers=[("x-origin", b"drill")])
    async with KafkaProbe(prefix + dead_letter_topic("poison")) as dlq, consuming(consumer, prefix):
        await wait_for(lambda: consumer.dead_lettered == 2 and consumer.parked == 2 and len(dlq.messages) == 2, timeout=30, what="two dead letters, two parked")
        log = await applied_log(engine)
        assert log[str(stuck)] == [1], "the key's later events wait behind the dead one"
        assert log[str(other)] == [11, 12], "other keys go on"
        reasons = {m.key.decode(): dict(m.headers) for m in dlq.messages}
        assert reasons[str(stuck)]["dlq-reason"].startswith(b"ValueError") and reasons[str(stuck)]["x-origin"] == b"drill"
        assert b"unknown contract version" in reasons[str(unknown)]["dlq-reason"]

        poisoned.clear()  # the fix is deployed
        outcome = await dlq_admin.replay([consumer], [], by="test")
        assert (await applied_log(engine))[str(stuck)] == [1, 2, 3, 4], "the dead one, then the parked ones, in order"
        assert outcome[f"poison/{stuck}"]["stopped_at"] is None
        assert outcome[f"poison/{unknown}"]["stopped_at"] is not None, "still unknown: it stays dead"

        await send(topic, [(str(stuck), body(numbered(stuck, 5)))])
        await wait_for(lambda: consumer.applied >= 4, timeout=30, what="the unparked key's next event")
        again = await dlq_admin.replay([consumer], [], by="test")
        assert list(again) == [f"poison/{unknown}"]
        discarded = await dlq_admin.discard([consumer], again[f"poison/{unknown}"]["stopped_at"], by="ops@test", reason="v99 was never released")
    assert (await applied_log(engine))[str(stuck)] == [1, 2, 3, 4, 5], "each applied once"
    assert discarded["then_applied"] == []
    async with engine.connect() as connection:
        states = dict((await connection.execute(text("SELECT state, count(*) FROM dead_letters GROUP BY state"))).all())
        audit = (await connection.execute(text("SELECT resolved_by, resolution FROM dead_letters WHERE state = 'discarded'"))).one()
    assert states == {"replayed": 3, "discarded": 1} and tuple(audit) == ("ops@test", "v99 was never released")
    print(f"\n[figures] poison_consumer: dead_letters={consumer.dead_lettered} parked={consumer.parked} replayed=3 discarded=1")
