"""The unit tier: payment's use cases on an in-memory unit of work (fakes.py) and scripted
gateways (scripted_gateway.py), no PostgreSQL and no sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cet_shared.clock import ManualClock
from cet_shared.testing import sibling_module
from payment.domain.model import Subject
from payment.settings import PaymentSettings

_fakes = sibling_module(__file__, "fakes")
FakeUnitOfWork, Store = _fakes.FakeUnitOfWork, _fakes.Store
ScriptedGateway = sibling_module(__file__, "scripted_gateway").ScriptedGateway

START = datetime(2017, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def uow(store: Store) -> FakeUnitOfWork:
    return FakeUnitOfWork(store)


@pytest.fixture
def new_uow(store: Store) -> Callable[[], FakeUnitOfWork]:
    return lambda: FakeUnitOfWork(store)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings() -> PaymentSettings:
    return PaymentSettings(database_url="postgresql+asyncpg://unit-tier-has-no-database/none", environment="test", projection_wait=timedelta(0))


@pytest.fixture
def gateways() -> dict[str, ScriptedGateway]:
    return {"alipay": ScriptedGateway("alipay"), "payease": ScriptedGateway("payease")}


@pytest.fixture
def enrol(uow: FakeUnitOfWork, clock: ManualClock) -> Callable[..., list[Subject]]:
    """A bound registration of `passport_id` with subjects as enrolment announced them."""

    def subjects(passport_id: str, *fees: int, expires_in: timedelta = timedelta(hours=24)) -> list[Subject]:
        registration_id = uuid.uuid4()
        uow.committed.registrations[registration_id] = passport_id
        made = [
            Subject(uuid.uuid4(), registration_id, passport_id, code, f"科目{code}", fee, "unpaid", clock.now() + expires_in)
            for code, fee in zip("1F2S", fees, strict=False)
        ]
        uow.committed.subjects.update({s.enrolment_id: s for s in made})
        return made

    return subjects
