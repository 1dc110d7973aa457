"""The composition root: everything eligibility needs, wired once (by the api lifespan, the
worker, the CLI, or a test with its own database, clock and token keys)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.auth import TokenVerifier
from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock, SystemClock
from cet_shared.db import create_engine, create_session_factory
from eligibility.db.import_jobs import SqlImportJobs
from eligibility.db.unit_of_work import SqlEligibilityUnitOfWork
from eligibility.service.import_jobs import ImportPace, pace_of
from eligibility.settings import EligibilitySettings


@dataclass
class EligibilityContainer:
    settings: EligibilitySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    captcha: CaptchaSeal
    token_verifier: TokenVerifier
    # Import jobs' statements span a batch or a whole file: their own small pool, a longer timeout.
    import_engine: AsyncEngine

    def unit_of_work(self) -> SqlEligibilityUnitOfWork:
        return SqlEligibilityUnitOfWork(self.sessions, producer="eligibility", imports=SqlImportJobs(self.import_engine))

    def import_pace(self) -> ImportPace:
        return pace_of(self.settings)

    async def close(self) -> None:
        await self.engine.dispose()
        await self.import_engine.dispose()


def bootstrap(settings: EligibilitySettings | None = None, *, clock: Clock | None = None, token_verifier: TokenVerifier | None = None) -> EligibilityContainer:
    settings = settings or EligibilitySettings()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, application_name="eligibility")
    return EligibilityContainer(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        clock=clock or SystemClock(),
        captcha=CaptchaSeal(settings.captcha_secret),
        # Passport's tokens are verified offline against its published keys.
        token_verifier=token_verifier or TokenVerifier(settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience),
        import_engine=create_engine(
            settings.database_url, pool_size=2, max_overflow=2, application_name="eligibility-imports", command_timeout=settings.import_statement_timeout
        ),
    )
