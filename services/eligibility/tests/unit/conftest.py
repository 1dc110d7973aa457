"""The unit tier: the use cases on an in-memory unit of work (fakes.py), no PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cet_shared.clock import ManualClock
from cet_shared.testing import sibling_module
from eligibility.cli import DEMO
from eligibility.domain.model import ExamSession
from eligibility.settings import EligibilitySettings

_fakes = sibling_module(__file__, "fakes")
FakeUnitOfWork = _fakes.FakeUnitOfWork

START = datetime(2017, 3, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings() -> EligibilitySettings:
    return EligibilitySettings(
        database_url="postgresql+asyncpg://unit-tier-has-no-database/none", captcha_secret="unit-tier-captcha-secret-not-real", environment="test"
    )


@pytest.fixture
async def demo(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """The demo registry and scores, seeded into the fake."""
    _fakes.seed_registry(uow, (DEMO / "students.csv").read_text(encoding="utf-8"), (DEMO / "scores.csv").read_text(encoding="utf-8"))
    return uow


@pytest.fixture
def open_session(uow: FakeUnitOfWork, clock: ManualClock) -> Callable[..., ExamSession]:
    """Publish an exam session as ExamSessionPublished would; its window opens `opens_in` from now."""

    def publish(*, opens_in: timedelta = timedelta(0), lasts: timedelta = timedelta(days=10)) -> ExamSession:
        opens = clock.now() + opens_in
        session = ExamSession(uuid.uuid4(), "2017年上半年CET考试", opens, opens + lasts)
        uow.committed.sessions.append(session)
        return session

    return publish
