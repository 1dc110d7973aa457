"""Passport's unit of work on PostgreSQL: the shared one (session, outbox) plus the repositories."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared import revocations
from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock
from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import SessionsRevoked
from passport.db.repositories import SqlAccounts, SqlAudit, SqlGuards, SqlLinkTokens, SqlOutbox, SqlRefreshTokens
from passport.db.staff_repositories import SqlStaffLogIns
from passport.domain.seed_seal import SeedSeal


class SqlPassportUnitOfWork(UnitOfWork):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, captcha: CaptchaSeal, clock: Clock, seeds: SeedSeal) -> None:
        super().__init__(sessions, producer="passport")
        self._captcha = captcha
        self._clock = clock
        self._seeds = seeds

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.accounts = SqlAccounts(self.session)
        self.links = SqlLinkTokens(self.session)
        self.refresh_tokens = SqlRefreshTokens(self.session)
        self.outbox = SqlOutbox(self.session)
        self.guards = SqlGuards(self.session, self._captcha, self._clock)
        self.audit = SqlAudit(self.session)
        self.staff = SqlStaffLogIns(self.session, self._seeds)
        return self

    async def record_revocation(self, event: SessionsRevoked) -> None:
        await revocations.record(self.session, event)
