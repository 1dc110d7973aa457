"""`service.enrol.HoldStore` on PostgreSQL: plain asyncpg statements on the pool (the sign-up
peak's path, without the ORM session's per-statement work). Each read borrows a connection only
for its statement; a hold goes in its campus's batch (`db.hold_batches`), so a click waiting for
its batch holds no connection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import asyncpg

from enrolment.db.context import fetch_campus_offerings, fetch_context, fetch_oral_choice
from enrolment.db.hold_batches import HoldBatches
from enrolment.domain.context import CandidateContext, Offering
from enrolment.service import seats


class PgHoldStore:
    def __init__(self, pool: asyncpg.Pool, batches: HoldBatches) -> None:
        self._pool = pool
        self._batches = batches

    async def oral_choice(self, offering_id: uuid.UUID, passport_id: str) -> tuple[Offering | None, CandidateContext | None]:
        async with self._pool.acquire() as connection:
            return await fetch_oral_choice(connection, offering_id, passport_id)

    async def campus_offerings(self, exam_session_id: uuid.UUID, campus_code: str, subject_codes: Sequence[str]) -> dict[str, Offering]:
        async with self._pool.acquire() as connection:
            return await fetch_campus_offerings(connection, exam_session_id, campus_code, subject_codes)

    async def context(self, passport_id: str) -> CandidateContext | None:
        async with self._pool.acquire() as connection:
            return await fetch_context(connection, passport_id)

    async def hold(self, context: CandidateContext, holds: Sequence[seats.Hold]) -> None:
        campus = (holds[0].offering.exam_session_id, holds[0].offering.campus_code)
        seats.raise_for(await self._batches.hold(campus, seats.hold_entry(context, holds)))


@asynccontextmanager
async def open_hold_store(pool: Callable[[], Awaitable[asyncpg.Pool]], batches: HoldBatches) -> AsyncIterator[PgHoldStore]:
    yield PgHoldStore(await pool(), batches)
