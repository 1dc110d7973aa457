from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from cet_shared.db import UnitOfWork, create_engine, create_session_factory
from cet_shared.db.migrations import COMMON_MIGRATIONS, upgrade
from cet_shared.testing import throwaway_database


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with throwaway_database("shared") as url:
        await asyncio.to_thread(upgrade, url, COMMON_MIGRATIONS)  # the frozen common history
        yield url


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url, pool_size=20)
    yield engine
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE outbox, inbox, captcha_nonces, rate_limit_hits, dead_letters, token_revocations RESTART IDENTITY"))
    await engine.dispose()


@pytest.fixture
def unit_of_work(engine):
    sessions = create_session_factory(engine)
    return lambda: UnitOfWork(sessions, producer="test")
