"""Access tokens that stop working before they expire (P4: "older sessions stop working").

Passport records a revocation in its own `token_revocations` table and publishes SessionsRevoked
in the same transaction; every other service's worker projects the event into its own copy of the
table (`revocation_consumer`). Each api process keeps the live revocations in memory and re-reads
what is new about once a second: one indexed query per process per second, not one per request.
A reset, change or log-out thus holds everywhere within the relay's delay plus that second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from cet_shared.db.tables import token_revocations
from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import SessionsRevoked
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer

log = logging.getLogger(__name__)

# A row written by a transaction that began up to this long before the last refresh and committed
# after it is still seen by the next one (rows carry their transaction's start time).
REREAD_OVERLAP = timedelta(seconds=10)
PRUNE_EVERY = 60.0  # seconds between sweeps of expired entries out of memory


async def record(session: AsyncSession, event: SessionsRevoked) -> None:
    """Store one revocation, and forget those whose tokens have all expired."""
    await session.execute(
        insert(token_revocations).values(
            passport_id=event.passport_id,
            token_version_below=event.token_version_below,
            token_id=event.token_id,
            expires_at=event.expires_at,
        )
    )
    await session.execute(delete(token_revocations).where(token_revocations.c.expires_at < func.now()))


class _Context(Protocol):
    def unit_of_work(self) -> UnitOfWork: ...


def revocation_consumer(service: str, ctx: _Context, *, max_attempts: int = 5) -> EventConsumer:
    """The worker's consumer of SessionsRevoked, its own group so it never waits behind a projection."""
    consumer = EventConsumer(f"{service}.revocations", ctx.unit_of_work, max_attempts=max_attempts)

    @consumer.handles(SessionsRevoked)
    async def revoked(uow: UnitOfWork, event: SessionsRevoked, envelope: EventEnvelope) -> None:
        await record(uow.session, event)

    return consumer


class Revocations:
    """The live revocations of one process, refreshed from the database at most every `refresh_every` s."""

    def __init__(self, engine: AsyncEngine, *, refresh_every: float = 1.0) -> None:
        self._engine = engine
        self._refresh_every = refresh_every
        self._versions: dict[str, tuple[int, float]] = {}  # passport id -> (lowest valid version, expiry)
        self._token_ids: dict[str, float] = {}  # revoked token id -> expiry
        self._read_up_to: datetime | None = None
        self._checked_at = -math.inf
        self._failing = False
        self._pruned_at = time.monotonic()
        self._lock = asyncio.Lock()

    def revoked(self, passport_id: str, token_version: int, token_id: str | None) -> bool:
        now = time.time()
        floor = self._versions.get(passport_id)
        if floor is not None and token_version < floor[0] and floor[1] > now:
            return True
        expiry = self._token_ids.get(token_id) if token_id else None
        return expiry is not None and expiry > now

    def remember(self, event: SessionsRevoked) -> None:
        """A revocation this process made itself holds here at once, not only after the next refresh."""
        self._add(event.passport_id, event.token_version_below, event.token_id, event.expires_at.timestamp())

    def _add(self, passport_id: str, version_below: int | None, token_id: str | None, expiry: float) -> None:
        if version_below is not None:
            known = self._versions.get(passport_id)
            if known is None or known[0] < version_below:
                self._versions[passport_id] = (version_below, expiry)
            elif known[0] == version_below and known[1] < expiry:
                self._versions[passport_id] = (known[0], expiry)
        if token_id is not None:
            self._token_ids[token_id] = expiry

    async def refresh_if_due(self) -> None:
        if time.monotonic() - self._checked_at < self._refresh_every:
            return
        async with self._lock:
            if time.monotonic() - self._checked_at < self._refresh_every:
                return  # another request refreshed while this one waited
            try:
                await self._refresh()
                self._failing = False
            except (SQLAlchemyError, OSError) as exc:
                # Keep the last known set; say so once per outage, not once a second.
                if not self._failing:
                    log.warning("token revocations could not be refreshed: %r", exc)
                self._failing = True
            finally:
                self._checked_at = time.monotonic()

    async def _refresh(self) -> None:
        t = token_revocations
        async with self._engine.connect() as connection:
            now = await connection.scalar(select(func.now()))
            query = select(t.c.passport_id, t.c.token_version_below, t.c.token_id, t.c.expires_at).where(t.c.expires_at > now)
            if self._read_up_to is not None:
                query = query.where(t.c.recorded_at >= self._read_up_to - REREAD_OVERLAP)
            rows = (await connection.execute(query)).all()
        self._read_up_to = now
        for row in rows:
            self._add(row.passport_id, row.token_version_below, row.token_id, row.expires_at.timestamp())
        if time.monotonic() - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = time.monotonic()
        wall = time.time()
        self._versions = {k: v for k, v in self._versions.items() if v[1] > wall}
        self._token_ids = {k: v for k, v in self._token_ids.items() if v > wall}
