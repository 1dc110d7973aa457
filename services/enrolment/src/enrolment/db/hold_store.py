"""`service.enrol.HoldStore` on PostgreSQL: plain asyncpg statements on one pooled connection
(the sign-up peak's path, without the ORM session's per-statement work)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import asyncpg

from enrolment.db.context import fetch_campus_offerings, fetch_context, fetch_offering
from enrolment.domain.context import CandidateContext, Offering
from enrolment.service import seats


class PgHoldStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def offering(self, offering_id: uuid.UUID) -> Offering | None:
        return await fetch_offering(self._connection, offering_id)

    async def campus_offerings(self, exam_session_id: uuid.UUID, campus_code: str, subject_codes: Sequence[str]) -> dict[str, Offering]:
        return await fetch_campus_offerings(self._connection, exam_session_id, campus_code, subject_codes)

    async def context(self, passport_id: str) -> CandidateContext | None:
        return await fetch_context(self._connection, passport_id)

    async def hold(self, context: CandidateContext, holds: Sequence[seats.Hold]) -> None:
        await seats.hold_now(self._connection, context, holds)


@asynccontextmanager
async def open_hold_store(pool: Callable[[], Awaitable[asyncpg.Pool]]) -> AsyncIterator[PgHoldStore]:
    async with (await pool()).acquire() as connection:
        yield PgHoldStore(connection)
