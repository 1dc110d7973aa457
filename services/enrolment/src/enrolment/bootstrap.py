"""The composition root: everything enrolment needs, wired once (api lifespan, worker, CLI or a test)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.clock import Clock, SystemClock
from cet_shared.db import UnitOfWork, create_engine, create_session_factory
from enrolment.settings import EnrolmentSettings


@dataclass
class Enrolment:
    settings: EnrolmentSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, producer="enrolment")

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: EnrolmentSettings | None = None, *, clock: Clock | None = None) -> Enrolment:
    settings = settings or EnrolmentSettings()
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, application_name="enrolment"
    )
    return Enrolment(settings=settings, engine=engine, sessions=create_session_factory(engine), clock=clock or SystemClock())
