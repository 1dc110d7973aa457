"""Eligibility's unit of work on PostgreSQL: the shared transaction and outbox, with the
service's repositories bound to its session."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.audit import SessionAuditTrail
from cet_shared.db import UnitOfWork
from eligibility.db.import_jobs import SqlImportJobs
from eligibility.db.registry import SqlRegistry
from eligibility.db.repositories import SqlAgreements, SqlExamSessions, SqlRegistrations, SqlReviews, SqlThrottles


class SqlEligibilityUnitOfWork(UnitOfWork):
    audit: SessionAuditTrail
    agreements: SqlAgreements
    registry: SqlRegistry
    exam_sessions: SqlExamSessions
    registrations: SqlRegistrations
    reviews: SqlReviews
    throttles: SqlThrottles

    def __init__(self, sessions: async_sessionmaker[AsyncSession], producer: str, *, imports: SqlImportJobs) -> None:
        super().__init__(sessions, producer)
        # Import jobs run transactions of their own, batch by batch (not this unit's one).
        self.imports = imports

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        session = self.session
        self.audit = SessionAuditTrail(session)
        self.agreements = SqlAgreements(session)
        self.registry = SqlRegistry(session)
        self.exam_sessions = SqlExamSessions(session)
        self.registrations = SqlRegistrations(session)
        self.reviews = SqlReviews(session)
        self.throttles = SqlThrottles(session)
        return self
