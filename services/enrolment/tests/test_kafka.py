"""Events in and out against the real Kafka broker: a real enrolment Worker (consumers, outbox
relay, the 24 h sweeper) with its own topic prefix. Shows expiry (N8) and a late payment (Y4)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from cet_shared.events.contracts import (
    ELIGIBILITY_REGISTRATIONS,
    ENROLMENT_ENROLMENTS,
    PAYMENT_PAYMENTS,
    PaymentConfirmed,
    RegistrationBound,
    RegistrationSnapshot,
)
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.testing import KafkaProbe, kafka_bootstrap, running, unique_topic_prefix, wait_for
from enrolment.api.app import create_app
from enrolment.bootstrap import bootstrap
from enrolment.service.sessions import SessionSpec, create_session, publish
from enrolment.worker import build_worker

pytestmark = pytest.mark.kafka


async def test_n8_expiry_and_y4_late_payment_through_the_real_broker(ctx, settings, clock, tokens, document_for) -> None:
    # `ctx` (unused here) empties the database after the test; the worker gets its own wiring.
    prefix = unique_topic_prefix()
    wired = bootstrap(  # the worker's own context, on this run's topic prefix
        settings.model_copy(
            update={"kafka_topic_prefix": prefix, "kafka_bootstrap_servers": kafka_bootstrap(), "expiry_sweep_interval": timedelta(milliseconds=200)}
        ),
        clock=clock,
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
    await producer.start()

    async def send(topic: str, event: Event, key: str) -> None:
        envelope = EventEnvelope.wrap(event, key=key, producer="test")
        await producer.send_and_wait(prefix + topic, envelope.model_dump_json().encode(), key=key.encode())

    try:
        session_id = await create_session(wired.unit_of_work, SessionSpec.model_validate(document_for(clock.now())))
        await publish(wired.unit_of_work, wired.clock, session_id)
        async with wired.engine.connect() as connection:
            offering = (await connection.execute(text("SELECT id FROM offerings WHERE campus_code = '993010' AND subject_code = 'F'"))).scalar_one()
        app = create_app(wired, token_verifier=tokens.verifier())
        async with (
            KafkaProbe(prefix + ENROLMENT_ENROLMENTS, prefix + "enrolment.sessions.v1") as probe,
            running(build_worker(wired)),
            LifespanManager(app),
            AsyncClient(transport=ASGITransport(app=app), base_url="http://enrolment.test") as http,
        ):
            await probe.wait_for("ExamSessionPublished")
            people = []
            for _ in range(3):
                passport_id, registration_id = uuid.uuid4().hex.upper(), uuid.uuid4()
                snapshot = RegistrationSnapshot(
                    name="颜",
                    gender="男",
                    id_type="macao_id",
                    id_number="WW1",
                    province_code="99",
                    school_code="99301",
                    school_name="测试学校机构01",
                    campus_code="993010",
                    campus_name="测试校区机构001",
                    qualification_subjects=["1", "F"],
                )
                await send(
                    ELIGIBILITY_REGISTRATIONS,
                    RegistrationBound(
                        registration_id=registration_id, exam_session_id=session_id, passport_id=passport_id, snapshot=snapshot, bound_at=clock.now()
                    ),
                    str(registration_id),
                )
                people.append((passport_id, registration_id, tokens.headers(passport_id, "candidate")))

            async def projected() -> bool:
                async with wired.engine.connect() as connection:
                    return (await connection.execute(text("SELECT count(*) FROM registrations"))).scalar_one() == 3

            await wait_for(projected, what="three RegistrationBound projected from Kafka")

            async def enrol(headers: dict[str, str]) -> list[str]:
                assert (await http.post("/me/notices/acknowledgement", headers=headers)).status_code == 200
                written = await http.post("/me/written", json={"subject_codes": ["1"]}, headers=headers)
                oral = await http.post("/me/oral", json={"offering_id": str(offering)}, headers=headers)
                assert written.status_code == 201 and oral.status_code == 201, (written.text, oral.text)
                return written.json()["enrolment_ids"] + oral.json()["enrolment_ids"]

            late_passport, late_registration, late_headers = people[0]
            late_written, late_oral = await enrol(late_headers)
            await probe.wait_for("SubjectEnrolled", 2)

            clock.advance(timedelta(hours=24, seconds=1))  # the worker's sweeper runs every 200 ms
            expired = await probe.wait_for("SubjectExpired", 2)
            assert {e["payload"]["enrolment_id"] for e in expired} == {late_written, late_oral}
            assert {e["key"] for e in expired} == {str(late_registration)}

            for _, _, headers in people[1:]:  # both oral seats are taken again meanwhile
                await enrol(headers)

            order_id = uuid.uuid4()
            await send(
                PAYMENT_PAYMENTS,
                PaymentConfirmed(
                    order_id=order_id,
                    registration_id=late_registration,
                    passport_id=late_passport,
                    enrolment_ids=[uuid.UUID(late_written), uuid.UUID(late_oral)],
                    amount_fen=2,
                    gateway="alipay",
                    gateway_transaction_id="2017112721001004",
                    paid_at=clock.now(),
                ),
                str(late_registration),
            )
            [refund] = await probe.wait_for("RefundRequired")
            assert refund["payload"]["order_id"] == str(order_id)
            assert refund["payload"]["enrolment_ids"] == [late_oral] and refund["payload"]["amount_fen"] == 1
            paid = await probe.wait_for("SubjectPaid")
            assert [e["payload"]["enrolment_id"] for e in paid] == [late_written]  # written re-took its (unlimited) place
            async with wired.engine.connect() as connection:
                assert (
                    await connection.execute(text("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held"), {"id": offering})
                ).scalar_one() == 2
    finally:
        await producer.stop()
        await wired.close()
