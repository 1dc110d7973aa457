"""Eligibility tests run against a real PostgreSQL: one throw-away database per test session,
migrated with the service's own Alembic history, emptied after every test (cet_shared.pytest_plugin)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from cet_shared.admin import ServiceAdmin
from cet_shared.clock import ManualClock
from cet_shared.db.tables import outbox
from cet_shared.events.contracts import ExamSessionPublished
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.pytest_plugin import asgi_client, discard
from cet_shared.testing import TestTokens
from eligibility.api.app import create_app
from eligibility.bootstrap import EligibilityContainer, bootstrap
from eligibility.cli import ADMIN, DEMO
from eligibility.events.consumers import build_consumers
from eligibility.service.registry import import_scores, import_students
from eligibility.settings import EligibilitySettings

TEST_CAPTCHA_SECRET = "test-only-captcha-secret-not-for-production"
START = datetime(2017, 3, 1, 1, 0, tzinfo=UTC)

# The demo registry (fictional, test-only) that ships with the service.
LIAO = {"id_type": "resident_id_card", "id_number": "330101199001010024", "name": "廖晓儿"}
LI_BO = {"id_type": "macao_id", "id_number": "99101000001", "name": "李博"}
YAN = {"id_type": "resident_id_card", "id_number": "990101200001010014", "name": "颜测试"}
LI_BO_TICKET = "993010162100101"


def passport_id() -> str:
    return uuid.uuid4().hex.upper()


@pytest.fixture(scope="session")
def service_admin() -> ServiceAdmin:
    """Which service `database_url` (cet_shared.pytest_plugin) migrates."""
    return ADMIN


@pytest.fixture
def settings(database_url: str) -> EligibilitySettings:
    return EligibilitySettings(database_url=database_url, captcha_secret=TEST_CAPTCHA_SECRET, environment="test", db_pool_size=10)


@pytest.fixture
async def ctx(settings: EligibilitySettings, tokens: TestTokens) -> AsyncIterator[EligibilityContainer]:
    eligibility = bootstrap(settings, clock=ManualClock(START), token_verifier=tokens.verifier())
    yield eligibility
    await discard(eligibility)


@pytest.fixture
async def client(ctx: EligibilityContainer) -> AsyncIterator[AsyncClient]:
    app = create_app(ctx)
    async with asgi_client(app, "http://eligibility.test") as http:
        yield http


async def deliver(ctx: EligibilityContainer, event: Event, *, key: str) -> None:
    """Hand an event to eligibility's consumer as the broker would (inbox included)."""
    envelope = EventEnvelope.wrap(event, key=key, producer="test")
    for consumer in build_consumers(ctx):
        await consumer.dispatch(envelope.model_dump_json().encode(), topic=event.topic)


async def published(ctx: EligibilityContainer, event_type: str | None = None) -> list[dict]:
    """What eligibility wrote to its outbox (in commit order)."""
    async with ctx.sessions() as session:
        query = select(outbox.c.envelope).order_by(outbox.c.id)
        if event_type:
            query = query.where(outbox.c.event_type == event_type)
        return list((await session.execute(query)).scalars().all())


class World:
    """The demo registry, an exam session, and the calls most tests make through the HTTP API.
    (Tests reach helpers through this fixture: with importlib mode they cannot import conftest.)"""

    LIAO = LIAO
    LI_BO = LI_BO
    YAN = YAN
    LI_BO_TICKET = LI_BO_TICKET
    new_passport_id = staticmethod(passport_id)

    async def deliver(self, event: Event, *, key: str) -> None:
        await deliver(self.ctx, event, key=key)

    async def published(self, event_type: str | None = None) -> list[dict]:
        return await published(self.ctx, event_type)

    def __init__(self, ctx: EligibilityContainer, client: AsyncClient, tokens: TestTokens) -> None:
        self.ctx, self.client, self.tokens = ctx, client, tokens
        self.session_id = uuid.uuid4()

    @property
    def clock(self) -> ManualClock:
        return self.ctx.clock  # type: ignore[return-value]

    async def load_registry(self) -> None:
        await import_students(self.ctx.unit_of_work(), self.clock, (DEMO / "students.csv").read_text(encoding="utf-8"), school_scope=None)
        await import_scores(self.ctx.unit_of_work(), self.clock, (DEMO / "scores.csv").read_text(encoding="utf-8"))

    async def publish_session(
        self,
        *,
        opens_in: timedelta = timedelta(0),
        lasts: timedelta = timedelta(days=10),
        name: str = "2017年上半年CET考试",
        session_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        sid = session_id or self.session_id
        opens = self.clock.now() + opens_in
        await deliver(
            self.ctx,
            ExamSessionPublished(exam_session_id=sid, name=name, registration_opens_at=opens, registration_closes_at=opens + lasts),
            key=str(sid),
        )
        return sid

    def candidate(self, pid: str | None = None) -> dict[str, str]:
        return self.tokens.headers(pid or passport_id(), "candidate")

    async def agree(self, headers: dict[str, str]) -> None:
        response = await self.client.post("/agreement", json={"version": self.ctx.settings.agreement_version, "accepted": True}, headers=headers)
        assert response.status_code == 200, response.text

    async def save(self, headers: dict[str, str], who: dict[str, str]):
        return await self.client.post("/registrations", json={**who, "confirmed": True}, headers=headers)

    async def bound(self, who: dict[str, str], pid: str | None = None) -> tuple[dict[str, str], dict]:
        """An account that accepted the agreement and saved `who` inside the open window."""
        headers = self.candidate(pid)
        await self.agree(headers)
        response = await self.save(headers, who)
        assert response.status_code == 200, response.text
        return headers, response.json()


@pytest.fixture
async def world(ctx: EligibilityContainer, client: AsyncClient, tokens: TestTokens) -> World:
    w = World(ctx, client, tokens)
    await w.load_registry()
    return w
