"""Passport's events on the real Kafka broker: the outbox relay, a relay killed mid-flight, and
the payment receipt (Y6)."""

from __future__ import annotations

import asyncio
import email
import socket
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cet_shared.db.tables import outbox
from cet_shared.events.contracts import ENROLMENT_ENROLMENTS, PASSPORT_ACCOUNTS, AccountRegistered, PaidSubject, PaymentAllocated
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from cet_shared.testing import KafkaProbe, kafka_bootstrap, running, unique_topic_prefix, wait_for
from cet_shared.worker import Worker
from passport.db.tables import mail_queue
from passport.worker import build_worker

pytestmark = pytest.mark.kafka


def counting_consumer(ctx, group: str) -> tuple[EventConsumer, list]:
    """Stands in for another service's consumer of AccountRegistered (it keeps its inbox in this test database)."""
    seen: list = []
    consumer = EventConsumer(group, ctx.unit_of_work)

    @consumer.handles(AccountRegistered)
    async def remember(uow, event, envelope):
        seen.append(event.passport_id)

    return consumer, seen


async def test_account_registered_goes_through_the_relay_to_kafka_and_is_consumed_once(api, ctx):
    prefix = unique_topic_prefix()
    passport_id = await api.signup()
    consumer, seen = counting_consumer(ctx, "eligibility-probe")
    async with KafkaProbe(prefix + PASSPORT_ACCOUNTS) as probe:
        worker = Worker("passport-test", engine=ctx.engine, bootstrap_servers=kafka_bootstrap(), consumers=[consumer], topic_prefix=prefix)
        async with running(worker):
            [message] = await probe.wait_for("AccountRegistered")
            await wait_for(lambda: seen, what="the consumer to apply AccountRegistered")
    assert message["payload"]["passport_id"] == passport_id and message["key"] == passport_id
    assert probe.messages[0].key == passport_id.encode(), "account events are keyed by passport id"
    assert seen == [passport_id] and consumer.applied == 1
    async with ctx.sessions() as session:
        assert (await session.execute(select(outbox.c.published_at))).scalar_one() is not None


async def test_relay_killed_between_publish_and_mark_resends_and_the_event_is_applied_once(api, ctx):
    prefix = unique_topic_prefix()
    passport_id = await api.signup()
    async with KafkaProbe(prefix + PASSPORT_ACCOUNTS) as probe:
        crasher = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).with_name("relay_crasher.py")),
            ctx.settings.database_url,
            kafka_bootstrap(),
            prefix,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(crasher.communicate(), timeout=60)
        assert crasher.returncode == -9, f"the relay should have been SIGKILLed: {out!r}"
        await probe.wait_for("AccountRegistered", 1)
        async with ctx.sessions() as session:
            assert (await session.execute(select(outbox.c.published_at))).scalar_one() is None, "killed before marking"

        consumer, seen = counting_consumer(ctx, "eligibility-probe")
        worker = Worker("passport-test", engine=ctx.engine, bootstrap_servers=kafka_bootstrap(), consumers=[consumer], topic_prefix=prefix)
        async with running(worker):
            copies = await probe.wait_for("AccountRegistered", 2)
            await wait_for(lambda: consumer.applied + consumer.duplicates_dropped >= 2, what="both copies to reach the consumer")
    assert len({c["event_id"] for c in copies}) == 1, "the same event, sent twice"
    assert seen == [passport_id], "applied once"
    assert consumer.duplicates_dropped == 1


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


async def test_y6_a_payment_allocated_to_seats_sends_one_receipt_email(api, ctx, settings):
    prefix = unique_topic_prefix()
    passport_id = await api.signup(email="libo@example.com")
    inbox = Inbox()

    def receipts() -> list:
        return [m for m in inbox.messages if "缴费成功" in str(email.header.make_header(email.header.decode_header(m["Subject"])))]

    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    ctx.mail.port = port
    try:
        # enrolment's answer to PaymentConfirmed: both subjects kept their seats (the receipt's trigger)
        event = PaymentAllocated(
            order_id=uuid.uuid4(),
            registration_id=uuid.uuid4(),
            passport_id=passport_id,
            amount_fen=2,
            gateway="payease",
            gateway_transaction_id="PE20171024000001",
            paid_at=datetime.now(UTC),
            honoured=[
                PaidSubject(enrolment_id=uuid.uuid4(), subject_code="1", subject_name="英语四级", fee_fen=1),
                PaidSubject(enrolment_id=uuid.uuid4(), subject_code="4", subject_name="日语六级", fee_fen=1),
            ],
            honoured_fen=2,
        )
        body = EventEnvelope.wrap(event, key=str(event.registration_id), producer="enrolment").model_dump_json().encode()
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
        await producer.start()
        try:
            for _ in range(2):  # delivered twice, as at-least-once allows
                await producer.send_and_wait(prefix + ENROLMENT_ENROLMENTS, body, key=str(event.registration_id).encode())
        finally:
            await producer.stop()
        ctx.settings.kafka_topic_prefix = prefix
        worker = build_worker(ctx)
        async with running(worker):
            await wait_for(lambda: receipts(), timeout=30, what="the receipt email")
            await asyncio.sleep(1.5)  # room for a second, wrong, email to show up
    finally:
        smtp.stop()
    [receipt] = receipts()
    assert receipt["To"] == "libo@example.com"
    text = receipt.get_payload(decode=True).decode()
    assert "首信易支付" in text and "0.02元" in text and "PE20171024000001" in text
    assert "(1)英语四级  0.01元" in text and "(4)日语六级" in text
    async with ctx.sessions() as session:
        assert (
            len((await session.execute(select(mail_queue).where(mail_queue.c.to_address == "libo@example.com", mail_queue.c.subject.like("%缴费%")))).all())
            == 1
        )
