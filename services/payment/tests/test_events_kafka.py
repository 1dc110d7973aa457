"""Events in and out on the real Kafka broker, with the real worker (relay, consumers, refund job)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from cet_shared.db.tables import inbox
from cet_shared.events.contracts import (
    PAYMENT_PAYMENTS,
    RefundRequired,
    RegistrationBound,
    RegistrationSnapshot,
    SubjectEnrolled,
)
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.testing import KafkaProbe, kafka_bootstrap, running, unique_topic_prefix, wait_for
from payment.db.tables import enrolments, refunds
from payment.worker import build_worker

pytestmark = pytest.mark.kafka


class Publisher:
    """Stands in for eligibility and enrolment: their events, on the real broker."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")

    async def __aenter__(self) -> Publisher:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(self, event: Event, key: str, envelope: EventEnvelope | None = None) -> EventEnvelope:
        envelope = envelope or EventEnvelope.wrap(event, key=key, producer="test")
        await self.producer.send_and_wait(self.prefix + event.topic, envelope.model_dump_json().encode(), key=key.encode())
        return envelope


def worker_for(world, prefix: str):
    world.ctx.settings.kafka_topic_prefix = prefix
    world.ctx.settings.kafka_bootstrap_servers = kafka_bootstrap()
    return build_worker(world.ctx)


async def test_y3_payment_confirmed_reaches_kafka_keyed_by_registration(world):
    prefix = unique_topic_prefix()
    passport_id, registration_id, enrolment_ids = await world.registration()
    order = await world.order(passport_id, enrolment_ids[:2])
    async with KafkaProbe(prefix + PAYMENT_PAYMENTS) as probe, running(worker_for(world, prefix)):
        checkout = await world.checkout(passport_id, order["order_id"], "payease", "boc")
        out_trade_no = await world.pay(checkout)
        [message] = await probe.wait_for("PaymentConfirmed")
    payload = message["payload"]
    assert message["key"] == str(registration_id) and probe.messages[0].key == str(registration_id).encode()
    assert payload["order_id"] == order["order_id"] and payload["passport_id"] == passport_id
    assert payload["amount_fen"] == 2 and payload["gateway"] == "payease" and payload["gateway_transaction_id"] == out_trade_no
    assert sorted(payload["enrolment_ids"]) == sorted(map(str, enrolment_ids[:2])) and payload["paid_at"]


async def test_y4_late_payment_is_refunded_once_with_events_on_kafka(world):
    """Enrolment's events arrive over Kafka; the payment goes out as PaymentConfirmed; enrolment
    (played here) answers RefundRequired — delivered three times — and exactly one refund is made."""
    prefix = unique_topic_prefix()
    passport_id, registration_id = uuid.uuid4().hex.upper(), uuid.uuid4()
    enrolment_ids = [uuid.uuid4(), uuid.uuid4()]
    snapshot = RegistrationSnapshot(
        name="廖晓儿",
        gender="女",
        id_type="resident_id_card",
        id_number="110105200001011234",
        province_code="99",
        school_code="99301",
        school_name="测试学校机构01",
        campus_code="993010",
        campus_name="测试校区机构001",
        qualification_subjects=["1", "F"],
    )
    async with Publisher(prefix) as publisher, KafkaProbe(prefix + PAYMENT_PAYMENTS) as probe, running(worker_for(world, prefix)):
        await publisher.send(
            RegistrationBound(
                registration_id=registration_id, exam_session_id=uuid.uuid4(), passport_id=passport_id, snapshot=snapshot, bound_at=world.ctx.clock.now()
            ),
            str(registration_id),
        )
        for enrolment_id, (code, name) in zip(enrolment_ids, [("1", "英语四级笔试"), ("F", "英语四级口试")], strict=True):
            await publisher.send(
                SubjectEnrolled(
                    enrolment_id=enrolment_id,
                    registration_id=registration_id,
                    passport_id=passport_id,
                    subject_code=code,
                    subject_name=name,
                    campus_code="993010",
                    fee_fen=1,
                    expires_at=world.ctx.clock.now() + timedelta(hours=24),
                ),
                str(registration_id),
            )

        async def projected() -> bool:
            async with world.ctx.sessions() as session:
                return len((await session.execute(select(enrolments.c.enrolment_id))).all()) == 2

        await wait_for(projected, what="the enrolment projection fed from Kafka")
        order = await world.order(passport_id, enrolment_ids)
        out_trade_no = await world.pay(await world.checkout(passport_id, order["order_id"]))
        await probe.wait_for("PaymentConfirmed")

        # The seats were gone by the time the money came (Y4): enrolment asks for the refund.
        required = RefundRequired(
            order_id=uuid.UUID(order["order_id"]), registration_id=registration_id, enrolment_ids=enrolment_ids, amount_fen=2, reason="late_payment_no_seat"
        )
        first = await publisher.send(required, str(registration_id))
        await publisher.send(required, str(registration_id), envelope=first)  # redelivered as is
        await publisher.send(required, str(registration_id))  # and sent again with a new event id
        [completed] = await probe.wait_for("RefundCompleted")
        trade = world.sandbox.trades[out_trade_no]

        async def all_consumed() -> bool:
            async with world.ctx.sessions() as session:
                return len((await session.execute(select(inbox.c.event_id).where(inbox.c.event_type == "RefundRequired"))).all()) == 2

        # Two distinct event ids reached the inbox (the verbatim copy was dropped there); give the
        # refund job a few more rounds to show it sends nothing more.
        await wait_for(all_consumed, what="every RefundRequired copy to be consumed")
        await asyncio.sleep(3 * world.ctx.settings.refund_interval.total_seconds())
    assert completed["key"] == str(registration_id)
    assert completed["payload"]["amount_fen"] == 2 and completed["payload"]["order_id"] == order["order_id"]
    assert len(trade.refunds) == 1 and f"{trade.refunded:.2f}" == "0.02", "money went back exactly once"
    assert len(probe.envelopes("RefundCompleted")) == 1
    assert await world.count(refunds) == 1
