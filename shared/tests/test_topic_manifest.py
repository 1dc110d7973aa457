"""deploy/topics.toml is the one declaration of the topics (issue 10): every contract's topic and
every consumer group's dead-letter topic is in it, and the broker creates nothing by itself."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError

from cet_shared.events.contracts import ALL_TOPICS
from cet_shared.messaging import dead_letter_topic
from cet_shared.testing import kafka_bootstrap
from cet_shared.topics import MANIFEST, load


def consumer_groups() -> set[str]:
    """Every service's consumer groups, as their workers build them (nothing runs)."""
    from eligibility.events.consumers import build_consumers as eligibility
    from enrolment.events.consumers import build_consumers as enrolment
    from passport.events.consumers import build_consumers as passport
    from payment.events.consumers import build_consumers as payment

    ctx = SimpleNamespace(settings=SimpleNamespace(consumer_max_attempts=3), unit_of_work=lambda: None)
    return {consumer.group for build in (passport, eligibility, enrolment, payment) for consumer in build(ctx)}


def test_every_contract_topic_and_every_dead_letter_topic_is_declared():
    declared = {topic.name: topic for topic in load()}
    assert set(ALL_TOPICS) <= set(declared), set(ALL_TOPICS) - set(declared)
    groups = consumer_groups()
    assert {dead_letter_topic(group) for group in groups} <= set(declared)
    assert {t.dead_letters_of for t in declared.values() if t.dead_letters_of} == groups, "no dead-letter topic of a group that does not exist"
    for topic in declared.values():
        assert topic.partitions >= 1 and topic.retention_ms > 0 and topic.cleanup_policy in ("delete", "compact")


def test_the_manifest_is_where_the_local_broker_config_says_topics_come_from():
    properties = (Path(MANIFEST).parents[0] / "local/kafka/server.properties").read_text()
    assert "auto.create.topics.enable=false" in properties


@pytest.mark.kafka
async def test_a_misspelt_topic_is_refused_instead_of_created():
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), request_timeout_ms=3000)
    await producer.start()
    try:
        with pytest.raises((UnknownTopicOrPartitionError, KafkaTimeoutError)):
            await producer.send_and_wait("eligibility.registratoins.v1", b"{}", key=b"k")  # sic
    finally:
        await producer.stop()
