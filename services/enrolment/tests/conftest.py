"""Enrolment tests run against a real PostgreSQL: one throw-away database per test session,
migrated with the service's own Alembic history, emptied after every test (cet_shared.pytest_plugin). Registrations arrive
the way production gets them: RegistrationBound envelopes through the service's consumer (inbox)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from cet_shared.admin import ServiceAdmin
from cet_shared.clock import ManualClock
from cet_shared.events.contracts import RegistrationBound, RegistrationSnapshot
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.pytest_plugin import asgi_client, discard
from cet_shared.testing import TestTokens
from enrolment.api.app import create_app
from enrolment.bootstrap import EnrolmentContainer, bootstrap
from enrolment.cli import ADMIN
from enrolment.events.consumers import build_consumers
from enrolment.service.expiry import expire_due
from enrolment.service.session_specs import SessionSpec
from enrolment.service.sessions import create_session, publish
from enrolment.settings import EnrolmentSettings

from .api_replicas import replicas  # noqa: F401 - the fixture, for the capacity proofs

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(scope="session")
def service_admin() -> ServiceAdmin:
    """Which service `database_url` (cet_shared.pytest_plugin) migrates."""
    return ADMIN


@pytest.fixture
def settings(database_url: str) -> EnrolmentSettings:
    return EnrolmentSettings(database_url=database_url, environment="test", db_pool_size=20, db_max_overflow=10, seats_per_room=3)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def ctx(settings: EnrolmentSettings, clock: ManualClock) -> AsyncIterator[EnrolmentContainer]:
    enrolment = bootstrap(settings, clock=clock)
    yield enrolment
    await discard(enrolment)


@pytest.fixture
async def client(ctx: EnrolmentContainer, tokens: TestTokens) -> AsyncIterator[AsyncClient]:
    app = create_app(ctx, token_verifier=tokens.verifier())
    async with asgi_client(app, "http://enrolment.test", client=None) as http:
        yield http


def session_document(now: datetime, **overrides: Any) -> dict[str, Any]:
    """The guide's test province 99: school 99101 (campus 991010, orals F and S, open to other
    schools) and school 99301 (campus 993010, whose candidates may take orals elsewhere)."""
    document: dict[str, Any] = {
        "name": "2017年下半年CET考试",
        "year": 2017,
        "half": 2,
        "registration": {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=10)},
        "written_exam_date": (now + timedelta(days=30)).date(),
        "oral_exam_dates": {"F": (now + timedelta(days=20)).date(), "S": (now + timedelta(days=21)).date()},
        "written_tickets": {"opens_at": now + timedelta(days=12), "closes_at": now + timedelta(days=30)},
        "oral_tickets": {"opens_at": now + timedelta(days=11), "closes_at": now + timedelta(days=20)},
        "notices": [
            {"scope": "registration_notes", "title": "报考须知", "body": "所有已报考科目如果24小时内未支付，将会被系统自动删除"},
            {"scope": "province", "province_code": "99", "title": "(99)测试省", "body": "一、遵守时间\n二、遵守记录"},
            {"scope": "school", "school_code": "99101", "title": "(99101)测试学校通告", "body": "口试请提前到达"},
        ],
        "school_oral_settings": [
            {"school_code": "99101", "allow_other_schools": False},
            {"school_code": "99301", "allow_other_schools": True},
        ],
        "campuses": [
            {
                "province_code": "99",
                "school_code": "99101",
                "school_name": "测试学校",
                "campus_code": "991010",
                "campus_name": "99101-0校区",
                "accepts_other_schools": True,
                "offerings": [{"subject": code, "fee_fen": 1} for code in ("1", "2", "3", "4")]
                + [
                    {"subject": "F", "fee_fen": 1, "capacity": 10, "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=8)},
                    {"subject": "S", "fee_fen": 1, "capacity": 4, "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=8)},
                ],
            },
            {
                "province_code": "99",
                "school_code": "99301",
                "school_name": "测试学校机构01",
                "campus_code": "993010",
                "campus_name": "测试校区机构001",
                "accepts_other_schools": False,
                "offerings": [{"subject": code, "fee_fen": 1} for code in ("1", "2", "3", "4")]
                + [{"subject": "F", "fee_fen": 1, "capacity": 2, "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=8)}],
            },
        ],
    }
    document.update(overrides)
    return document


class World:
    """The calls most tests make: a published session, bound registrations, candidates' tokens."""

    def __init__(self, ctx: EnrolmentContainer, tokens: TestTokens, client: AsyncClient | None = None) -> None:
        self.ctx = ctx
        self.tokens = tokens
        self.client = client
        self.session_id: uuid.UUID | None = None
        self.consumers = {c.group: c for c in build_consumers(ctx)}

    async def open_session(self, **overrides: Any) -> uuid.UUID:
        spec = SessionSpec.model_validate(session_document(self.ctx.clock.now(), **overrides))
        self.session_id = await create_session(self.ctx.unit_of_work, spec)
        await publish(self.ctx.unit_of_work, self.ctx.clock, self.session_id)
        return self.session_id

    async def deliver(self, event: Event, key: str) -> EventEnvelope:
        envelope = EventEnvelope.wrap(event, key=key, producer="test")
        await self.redeliver(envelope)
        return envelope

    async def redeliver(self, envelope: EventEnvelope) -> None:
        group = "enrolment.payments" if envelope.event_type in ("PaymentConfirmed", "RefundCompleted", "RefundFailed") else "enrolment.registrations"
        await self.consumers[group].dispatch(envelope.model_dump_json().encode(), topic="test")

    async def bind(
        self,
        *,
        school: str = "99101",
        campus: str = "991010",
        qualifications: tuple[str, ...] = ("英语四级笔试", "日语四级笔试", "日语六级笔试", "英语四级口试"),
        passport_id: str | None = None,
        acknowledge: bool = True,
        name: str = "廖晓儿",
    ) -> Candidate:
        passport_id = passport_id or uuid.uuid4().hex.upper()
        registration_id = uuid.uuid4()
        snapshot = RegistrationSnapshot(
            name=name,
            gender="女",
            id_type="resident_id_card",
            id_number="330101199001010000",
            province_code=school[:2],
            school_code=school,
            school_name="测试学校" if school == "99101" else "测试学校机构01",
            campus_code=campus,
            campus_name="99101-0校区" if campus == "991010" else "测试校区机构001",
            qualification_subjects=list(qualifications),
        )
        await self.deliver(
            RegistrationBound(
                registration_id=registration_id, exam_session_id=self.session_id, passport_id=passport_id, snapshot=snapshot, bound_at=self.ctx.clock.now()
            ),
            key=str(registration_id),
        )
        candidate = Candidate(self, passport_id, registration_id)
        if acknowledge and self.client is not None:
            response = await self.client.post("/me/notices/acknowledgement", headers=candidate.headers)
            assert response.status_code == 200, response.text
        return candidate

    @staticmethod
    def code(response) -> str:
        """The problem code of an RFC 9457 answer."""
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        return response.json()["code"]

    async def offering(self, campus: str, subject: str) -> uuid.UUID:
        async with self.ctx.sessions() as session:
            return (
                await session.execute(
                    text("SELECT id FROM offerings WHERE exam_session_id = :s AND campus_code = :c AND subject_code = :j"),
                    {"s": self.session_id, "c": campus, "j": subject},
                )
            ).scalar_one()

    async def expire_due(self, ctx: EnrolmentContainer | None = None) -> int:
        """One sweep of the 24 h clock (N8), as the worker runs it."""
        ctx = ctx or self.ctx
        return await expire_due(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, ctx.settings.expiry_batch_size)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.ctx.sessions() as session:
            return (await session.execute(text(sql), params)).scalar()

    async def outbox(self, event_type: str) -> list[dict]:
        async with self.ctx.sessions() as session:
            rows = await session.execute(text("SELECT key, envelope FROM outbox WHERE event_type = :t ORDER BY id"), {"t": event_type})
            return [{"key": key, **envelope["payload"]} for key, envelope in rows]


class Candidate:
    def __init__(self, world: World, passport_id: str, registration_id: uuid.UUID) -> None:
        self.world = world
        self.passport_id = passport_id
        self.registration_id = registration_id
        self.headers = world.tokens.headers(passport_id, "candidate")

    async def written(self, *codes: str):
        return await self.world.client.post("/me/written", json={"subject_codes": list(codes)}, headers=self.headers)

    async def oral(self, offering_id: uuid.UUID):
        return await self.world.client.post("/me/oral", json={"offering_id": str(offering_id)}, headers=self.headers)

    async def page(self) -> dict:
        response = await self.world.client.get("/me/registration", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def cancel(self, enrolment_id: str):
        return await self.world.client.delete(f"/me/enrolments/{enrolment_id}", headers=self.headers)


@pytest.fixture
def world(ctx: EnrolmentContainer, tokens: TestTokens, client: AsyncClient) -> World:
    return World(ctx, tokens, client)


@pytest.fixture
def document_for():
    """`document_for(now, **overrides)`: the test session document (see session_document)."""
    return session_document
