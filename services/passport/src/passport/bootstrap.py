"""The composition root: everything passport needs, wired once (by the api lifespan, the worker,
the CLI, or a test with its own database and clock). Use cases receive only the parts they use."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock, SystemClock
from cet_shared.db import create_engine, create_session_factory
from cet_shared.tokens import TokenSigner
from passport.db.unit_of_work import SqlPassportUnitOfWork
from passport.domain.links import LinkBuilder
from passport.domain.seed_seal import SeedSeal
from passport.mail import MailSender
from passport.service.passwords import Passwords
from passport.settings import PassportSettings


@dataclass
class PassportContainer:
    settings: PassportSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    captcha: CaptchaSeal
    signer: TokenSigner
    passwords: Passwords
    links: LinkBuilder
    mail: MailSender
    seeds: SeedSeal

    def unit_of_work(self) -> SqlPassportUnitOfWork:
        return SqlPassportUnitOfWork(self.sessions, captcha=self.captcha, clock=self.clock, seeds=self.seeds)

    async def close(self) -> None:
        self.passwords.close()
        await self.engine.dispose()


def password_hasher(settings: PassportSettings) -> PasswordHasher:
    return PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=settings.argon2_parallelism, type=Type.ID)


def bootstrap(settings: PassportSettings | None = None, *, clock: Clock | None = None) -> PassportContainer:
    settings = settings or PassportSettings()
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, application_name="passport")
    sessions = create_session_factory(engine)
    return PassportContainer(
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
        passwords=Passwords(password_hasher(settings), threads=settings.password_hash_threads),
        links=LinkBuilder(campus_base_url=settings.campus_base_url, public_base_url=settings.public_base_url),
        mail=MailSender(sessions, host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from, clock=clock),
        seeds=settings.totp_seed_seal(),
    )
