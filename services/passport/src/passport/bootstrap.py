"""The composition root: everything passport needs, wired once (by the api lifespan, the worker,
the CLI, or a test with its own database and clock)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock, SystemClock
from cet_shared.db import UnitOfWork, create_engine, create_session_factory
from passport.mail import MailSender
from passport.settings import PassportSettings
from cet_shared.tokens import TokenSigner


@dataclass
class Passport:
    settings: PassportSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    captcha: CaptchaSeal
    signer: TokenSigner
    hasher: PasswordHasher
    mail: MailSender

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, producer="passport")

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: PassportSettings | None = None, *, clock: Clock | None = None) -> Passport:
    settings = settings or PassportSettings()
    clock = clock or SystemClock()
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, application_name="passport"
    )
    sessions = create_session_factory(engine)
    return Passport(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        captcha=CaptchaSeal(settings.captcha_secret),
        signer=TokenSigner.from_pem_file(
            settings.jwt_private_key_file,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime=settings.access_token_lifetime,
        ),
        # argon2id with the library's RFC 9106 low-memory profile defaults.
        hasher=PasswordHasher(),
        mail=MailSender(sessions, host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from, clock=clock),
    )
