"""Fuzzing passport, eligibility, payment and enrolment in-process against throw-away PostgreSQL databases.

Each service runs as its tests build it (its own context, a ManualClock, a test token key), wrapped
so its context closes when its lifespan ends. Schemathesis drives the apps through its ASGI client,
which runs every app in one event loop thread for the whole session: the apps' database pools live
in that loop, so they are created lazily there and disposed there (`ClosesOnShutdown`).

Some data is seeded (accounts, the demo registry and an open exam session, a payment registration
with an order, an enrolment exam session with offerings and the candidate's bound registration) so that requests carrying a valid token reach past "not found" into the use cases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import httpx
import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from schemathesis.python import asgi as schemathesis_asgi

from cet_shared.auth import Principal
from cet_shared.clock import ManualClock
from cet_shared.events.contracts import ExamSessionPublished, RegistrationBound, RegistrationSnapshot, SubjectEnrolled
from cet_shared.events.envelope import EventEnvelope
from cet_shared.testing import TestTokens, throwaway_database

WHO = ("anonymous", "candidate", "teacher", "support", "ops")
SERVICES = ("passport", "eligibility", "payment", "enrolment")
SCHOOL = "99301"  # a school of eligibility's demo registry
CAPTCHA_SECRET = "test-only-captcha-secret-not-for-production"
START = datetime(2017, 3, 1, 1, 0, tzinfo=UTC)
# Fuzzing is not about the hash's strength: a cheap argon2id keeps password endpoints fast.


class ClosesOnShutdown:
    """The app under test, closing its context when its lifespan ends: in the loop its pool lives in."""

    def __init__(self, app, close: Callable[[], Awaitable[None]]) -> None:
        self.app, self._close = app, close

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_closing(message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self._close()
            await send(message)

        await self.app(scope, receive, send_closing)


@dataclass
class Target:
    """One service under test: its ASGI app, its context, and request headers per identity."""

    name: str
    app: ClosesOnShutdown
    ctx: object
    headers: dict[str, dict[str, str]]
    seeded: dict[str, object] = field(default_factory=dict)

    def client(self) -> schemathesis_asgi.ASGIClient:
        return schemathesis_asgi.get_client(self.app)

    @cached_property
    def schema(self):
        """The OpenAPI schema as the app serves it."""
        return schemathesis.openapi.from_asgi("/openapi.json", self.app)


def intended_callers(service: str, path: str) -> set[str]:
    """Who an operation is for."""
    if service == "passport":
        return {"candidate"} if path.startswith("/me") else {"anonymous"}
    if service == "payment":
        if path.startswith("/notify"):
            return {"anonymous"}
        return {"candidate", "support"} if path in ("/orders/{order_id}", "/registrations/{registration_id}/refresh") else {"candidate"}
    if service == "enrolment" and path.startswith("/ops"):
        return {"ops"}
    for prefix, who in (("/teacher", {"teacher"}), ("/support", {"support"}), ("/registry", {"teacher", "ops"}), ("/account-recovery", {"anonymous"})):
        if path.startswith(prefix):
            return who
    return {"candidate"}


@pytest.fixture(scope="session")
def intended():
    """Who an operation is for: `intended(service, path)`."""
    return intended_callers


@pytest.fixture(scope="session")
def fuzz_tokens() -> TestTokens:
    return TestTokens()


def _token_headers(tokens: TestTokens, pids: dict[str, str]) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for who in WHO[1:]:
        headers[who] = tokens.headers(pids[who], who, school_code=SCHOOL if who == "teacher" else None)
    return headers


def _pids() -> dict[str, str]:
    return {who: uuid.uuid4().hex.upper() for who in WHO[1:]}


def _shutdown() -> None:
    # Ends every lifespan schemathesis started (each closes its context in the loop that used it).
    schemathesis_asgi.shutdown_lifespans()


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
        _shutdown()


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
        yield Target("eligibility", ClosesOnShutdown(create_app(ctx), ctx.close), ctx, _token_headers(fuzz_tokens, _pids()))
        _shutdown()


def _gateway_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("gateway unreachable (fuzz tests reach no gateway)", request=request)


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
        pids = _pids()
        transport = httpx.MockTransport(_gateway_down)
        seeding = bootstrap(settings, clock=ManualClock(now), http_transport=transport)
        # A bound registration with two subjects awaiting payment, and an order for one of them.
        registration_id = uuid.uuid4()
        events = [
            RegistrationBound(
                registration_id=registration_id,
                exam_session_id=uuid.uuid4(),
                passport_id=pids["candidate"],
                snapshot=RegistrationSnapshot(
                    name="廖晓儿",
                    gender="女",
                    id_type="resident_id_card",
                    id_number="110105200001011234",
                    province_code="99",
                    school_code=SCHOOL,
                    school_name="测试学校机构01",
                    campus_code="993010",
                    campus_name="测试校区机构001",
                    qualification_subjects=["1", "4"],
                ),
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
        yield Target("payment", ClosesOnShutdown(app, ctx.close), ctx, _token_headers(fuzz_tokens, pids), seeded)
        _shutdown()


def _enrolment_session(now: datetime) -> dict:
    """A published, open exam session: the candidate's campus 993010 (school 99301, whose candidates
    may take orals elsewhere) and campus 991010 of school 99101 with limited oral seats."""
    window = {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=8)}
    return {
        "name": "2017年上半年CET考试",
        "year": 2017,
        "half": 1,
        "registration": {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=10)},
        "written_exam_date": (now + timedelta(days=30)).date(),
        "oral_exam_dates": {"F": (now + timedelta(days=20)).date(), "S": (now + timedelta(days=21)).date()},
        "written_tickets": {"opens_at": now + timedelta(days=12), "closes_at": now + timedelta(days=30)},
        "oral_tickets": {"opens_at": now + timedelta(days=11), "closes_at": now + timedelta(days=20)},
        "notices": [
            {"scope": "registration_notes", "title": "报考须知", "body": "所有已报考科目如果24小时内未支付，将会被系统自动删除"},
            {"scope": "province", "province_code": "99", "title": "(99)测试省", "body": "一、遵守时间"},
            {"scope": "school", "school_code": "99101", "title": "(99101)测试学校通告", "body": "口试请提前到达"},
        ],
        "school_oral_settings": [{"school_code": SCHOOL, "allow_other_schools": True}],
        "campuses": [
            {
                "province_code": "99",
                "school_code": "99101",
                "school_name": "测试学校",
                "campus_code": "991010",
                "campus_name": "99101-0校区",
                "accepts_other_schools": True,
                "offerings": [
                    {"subject": "1", "fee_fen": 1},
                    {"subject": "F", "fee_fen": 1, "capacity": 5, **window},
                    {"subject": "S", "fee_fen": 1, "capacity": 1, **window},
                ],
            },
            {
                "province_code": "99",
                "school_code": SCHOOL,
                "school_name": "测试学校机构01",
                "campus_code": "993010",
                "campus_name": "测试校区机构001",
                "offerings": [{"subject": code, "fee_fen": 1} for code in ("1", "2", "3", "4")] + [{"subject": "F", "fee_fen": 1, "capacity": 2, **window}],
            },
        ],
    }


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
        pids = _pids()
        seeding = bootstrap(settings, clock=ManualClock(START))
        session_id = await create_session(seeding.unit_of_work, SessionSpec.model_validate(_enrolment_session(START)))
        await publish(seeding.unit_of_work, seeding.clock, session_id)
        # The candidate's registration (school 99301, a teacher's school), notices read and the
        # level-4 written subject held, so oral requests reach every N9 check and the seat.
        registration_id = uuid.uuid4()
        bound = RegistrationBound(
            registration_id=registration_id,
            exam_session_id=session_id,
            passport_id=pids["candidate"],
            snapshot=RegistrationSnapshot(
                name="廖晓儿",
                gender="女",
                id_type="resident_id_card",
                id_number="110105200001011234",
                province_code="99",
                school_code=SCHOOL,
                school_name="测试学校机构01",
                campus_code="993010",
                campus_name="测试校区机构001",
                qualification_subjects=["1", "2", "F", "S"],
            ),
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
        yield Target("enrolment", ClosesOnShutdown(app, ctx.close), ctx, _token_headers(fuzz_tokens, pids), seeded)
        _shutdown()
