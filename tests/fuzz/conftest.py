"""Fuzzing passport, eligibility, payment and enrolment in-process against throw-away PostgreSQL databases.

Each service runs as its tests build it (its own context, a ManualClock, a test token key), wrapped
so its context closes when its lifespan ends (fuzz_targets.py). Schemathesis drives the apps through
its ASGI client, which runs every app in one event loop thread for the whole session: the apps'
database pools live in that loop, so they are created lazily there and disposed there.

Some data is seeded (accounts, the demo registry and an open exam session, a payment registration
with an order, an enrolment exam session with offerings and the candidate's bound registration;
fuzz_seeds.py) so that requests carrying a valid token reach past "not found" into the use cases.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cet_shared.auth import Principal
from cet_shared.clock import ManualClock
from cet_shared.events.contracts import ExamSessionPublished, RegistrationBound, SubjectEnrolled
from cet_shared.events.envelope import EventEnvelope
from cet_shared.testing import TestTokens, throwaway_database

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_seeds import candidate_snapshot, enrolment_session
from fuzz_targets import (
    CAPTCHA_SECRET,
    SCHOOL,
    START,
    WHO,
    ClosesOnShutdown,
    Target,
    end_lifespans,
    gateway_down,
    intended_callers,
    new_pids,
    token_headers,
)


@pytest.fixture(scope="session")
def intended():
    """Who an operation is for: `intended(service, path)`."""
    return intended_callers


@pytest.fixture(scope="session")
def fuzz_tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture(scope="session")
async def passport_target(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Target]:
    from passport.api.app import create_app
    from passport.bootstrap import bootstrap
    from passport.cli import migrate
    from passport.service.registration import create_staff
    from passport.settings import PassportSettings

    key_file = tmp_path_factory.mktemp("fuzz-passport") / "jwt-ed25519.pem"
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    async with throwaway_database("fuzz_passport") as url:
        await asyncio.to_thread(migrate, url)
        settings = PassportSettings(
            database_url=url,
            jwt_private_key_file=str(key_file),
            captcha_secret=CAPTCHA_SECRET,
            environment="test",
            db_pool_size=5,
            campus_base_url="http://campus.cet.test",
            public_base_url="https://cet.test",
            argon2_memory_kib=1024,
            argon2_time_cost=1,  # cheap hashes: the fuzzer logs in thousands of times
        )
        # Real accounts for every role, so tokens reach the account pages (passport signs its own tokens).
        seeding = bootstrap(settings, clock=ManualClock(START))
        pids = {}
        for who in WHO[1:]:
            pids[who] = await create_staff(
                seeding.unit_of_work(),
                passwords=seeding.passwords,
                clock=seeding.clock,
                email=f"fuzz-{who}@example.com",
                password="Cet2017-fuzz-pass",
                roles=frozenset({who}),
                school_code=SCHOOL if who == "teacher" else None,
            )
        await seeding.close()
        ctx = bootstrap(settings, clock=ManualClock(START))
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for who in WHO[1:]:
            token = ctx.signer.issue(
                passport_id=pids[who], roles=[who], token_version=0, school_code=SCHOOL if who == "teacher" else None, now=datetime.now(UTC)
            )
            headers[who] = {"authorization": f"Bearer {token}"}
        yield Target("passport", ClosesOnShutdown(create_app(ctx), ctx.close), ctx, headers, seeded={"pids": pids})
        end_lifespans()


@pytest.fixture(scope="session")
async def eligibility_target(fuzz_tokens: TestTokens) -> AsyncIterator[Target]:
    from eligibility.api.app import create_app
    from eligibility.bootstrap import bootstrap
    from eligibility.cli import DEMO, migrate
    from eligibility.events.consumers import build_consumers
    from eligibility.service.registry import import_scores, import_students
    from eligibility.settings import EligibilitySettings

    async with throwaway_database("fuzz_eligibility") as url:
        await asyncio.to_thread(migrate, url)
        settings = EligibilitySettings(database_url=url, captcha_secret=CAPTCHA_SECRET, environment="test", db_pool_size=5)
        seeding = bootstrap(settings, clock=ManualClock(START), token_verifier=fuzz_tokens.verifier())
        await import_students(seeding.unit_of_work(), seeding.clock, (DEMO / "students.csv").read_text(encoding="utf-8"), school_scope=None)
        await import_scores(seeding.unit_of_work(), seeding.clock, (DEMO / "scores.csv").read_text(encoding="utf-8"))
        session_id = uuid.uuid4()
        event = ExamSessionPublished(
            exam_session_id=session_id, name="2017年上半年CET考试", registration_opens_at=START, registration_closes_at=START + timedelta(days=10)
        )
        envelope = EventEnvelope.wrap(event, key=str(session_id), producer="fuzz")
        for consumer in build_consumers(seeding):
            await consumer.dispatch(envelope.model_dump_json().encode(), topic=event.topic)
        await seeding.close()
        ctx = bootstrap(settings, clock=ManualClock(START + timedelta(hours=1)), token_verifier=fuzz_tokens.verifier())
        yield Target("eligibility", ClosesOnShutdown(create_app(ctx), ctx.close), ctx, token_headers(fuzz_tokens, new_pids()))
        end_lifespans()


@pytest.fixture(scope="session")
def payment_keys(tmp_path_factory: pytest.TempPathFactory):
    """The merchant's keys, and the "Alipay" private key so tests can sign notifications as Alipay does."""
    from payment.sandbox.keys import ensure_merchant_keys, new_alipay_key

    directory = tmp_path_factory.mktemp("fuzz-payment-keys")
    ensure_merchant_keys(directory)
    return directory, new_alipay_key(directory)


@pytest.fixture(scope="session")
async def payment_target(fuzz_tokens: TestTokens, payment_keys) -> AsyncIterator[Target]:
    from payment.api.app import create_app
    from payment.bootstrap import bootstrap
    from payment.cli import migrate
    from payment.events.consumers import build_consumers
    from payment.sandbox.keys import ALIPAY_PUBLIC, APP_PRIVATE, PAYEASE_KEY
    from payment.service.orders import create_order
    from payment.settings import PaymentSettings

    key_dir: Path = payment_keys[0]
    async with throwaway_database("fuzz_payment") as url:
        await asyncio.to_thread(migrate, url)
        settings = PaymentSettings(
            database_url=url,
            environment="test",
            db_pool_size=5,
            notify_base_url="http://payment.test",
            return_url="http://portal.test/registration",
            alipay_gateway_url="http://gateway.test/alipay/gateway.do",
            alipay_app_private_key_file=str(key_dir / APP_PRIVATE),
            alipay_public_key_file=str(key_dir / ALIPAY_PUBLIC),
            payease_pay_url="http://gateway.test/payease/pay",
            payease_api_base_url="http://gateway.test/payease",
            payease_key_file=str(key_dir / PAYEASE_KEY),
            # thousands of forged notifications from one address by design: the answers' shape is
            # under test here, the per-source throttle in services/payment/tests/test_notify_flood.py
            notify_rejected_per_source=1_000_000,
            # nothing feeds this projection here: a generated unknown subject would wait the full bound
            projection_wait=timedelta(milliseconds=200),
        )
        now = datetime.now(UTC)
        pids = new_pids()
        transport = httpx.MockTransport(gateway_down)
        seeding = bootstrap(settings, clock=ManualClock(now), http_transport=transport)
        # A bound registration with two subjects awaiting payment, and an order for one of them.
        registration_id = uuid.uuid4()
        events = [
            RegistrationBound(
                registration_id=registration_id,
                exam_session_id=uuid.uuid4(),
                passport_id=pids["candidate"],
                snapshot=candidate_snapshot(["1", "4"]),
                bound_at=now,
            )
        ]
        enrolment_ids = [uuid.uuid4(), uuid.uuid4()]
        for enrolment_id, (code, name) in zip(enrolment_ids, (("1", "英语四级笔试"), ("4", "日语六级笔试"))):
            events.append(
                SubjectEnrolled(
                    enrolment_id=enrolment_id,
                    registration_id=registration_id,
                    passport_id=pids["candidate"],
                    subject_code=code,
                    subject_name=name,
                    campus_code="993010",
                    fee_fen=1,
                    expires_at=now + timedelta(days=1),
                )
            )
        consumer = build_consumers(seeding)[0]
        for event in events:
            await consumer.dispatch(EventEnvelope.wrap(event, key=str(registration_id), producer="fuzz").model_dump_json().encode(), topic=event.topic)
        candidate = Principal(passport_id=pids["candidate"], roles=frozenset({"candidate"}))
        order = await create_order(seeding.unit_of_work(), seeding.clock, seeding.settings, candidate, enrolment_ids[:1])
        await seeding.close()
        ctx = bootstrap(settings, clock=ManualClock(now), http_transport=transport)
        app = create_app(ctx, token_verifier=fuzz_tokens.verifier())
        seeded = {"registration_id": registration_id, "enrolment_ids": enrolment_ids, "order_id": order.order_id, "alipay_key": payment_keys[1]}
        yield Target("payment", ClosesOnShutdown(app, ctx.close), ctx, token_headers(fuzz_tokens, pids), seeded)
        end_lifespans()


@pytest.fixture(scope="session")
async def enrolment_target(fuzz_tokens: TestTokens) -> AsyncIterator[Target]:
    from enrolment.api.app import create_app
    from enrolment.bootstrap import bootstrap
    from enrolment.cli import migrate
    from enrolment.events.consumers import build_consumers
    from enrolment.service.enrol import enrol_written
    from enrolment.service.notices import acknowledge_notices
    from enrolment.service.sessions import SessionSpec, create_session, publish
    from enrolment.settings import EnrolmentSettings

    async with throwaway_database("fuzz_enrolment") as url:
        await asyncio.to_thread(migrate, url)
        settings = EnrolmentSettings(database_url=url, environment="test", db_pool_size=5)
        pids = new_pids()
        seeding = bootstrap(settings, clock=ManualClock(START))
        session_id = await create_session(seeding.unit_of_work, SessionSpec.model_validate(enrolment_session(START)))
        await publish(seeding.unit_of_work, seeding.clock, session_id)
        # The candidate's registration (school 99301, a teacher's school), notices read and the
        # level-4 written subject held, so oral requests reach every N9 check and the seat.
        registration_id = uuid.uuid4()
        bound = RegistrationBound(
            registration_id=registration_id,
            exam_session_id=session_id,
            passport_id=pids["candidate"],
            snapshot=candidate_snapshot(["1", "2", "F", "S"]),
            bound_at=START,
        )
        envelope = EventEnvelope.wrap(bound, key=str(registration_id), producer="fuzz").model_dump_json().encode()
        for consumer in build_consumers(seeding):
            await consumer.dispatch(envelope, topic=bound.topic)
        await acknowledge_notices(seeding.unit_of_work, seeding.clock, pids["candidate"])
        enrolment_ids = await enrol_written(seeding.hold_stores, seeding.clock, settings.unpaid_lifetime, pids["candidate"], ["1"])
        await seeding.close()
        ctx = bootstrap(settings, clock=ManualClock(START + timedelta(hours=1)))
        app = create_app(ctx, token_verifier=fuzz_tokens.verifier())
        seeded = {"session_id": session_id, "registration_id": registration_id, "enrolment_ids": enrolment_ids}
        yield Target("enrolment", ClosesOnShutdown(app, ctx.close), ctx, token_headers(fuzz_tokens, pids), seeded)
        end_lifespans()
