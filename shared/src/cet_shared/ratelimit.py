"""Fixed-window rate limits kept in the service's own PostgreSQL, so every replica sees the same count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.clock import Clock
from cet_shared.db.tables import rate_limit_hits
from cet_shared.metrics import RATE_LIMIT_REFUSALS
from cet_shared.problems import Problem, too_many_requests


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


class RateLimit:
    def __init__(self, name: str, limit: int, window: timedelta) -> None:
        self.name = name
        self.limit = limit
        self.window = window

    def bucket(self, subject: str) -> str:
        return f"{self.name}:{subject}"

    async def count(self, session: AsyncSession, subject: str, *, clock: Clock) -> int:
        start = _window_start(clock.now(), self.window)
        hits = await session.scalar(
            select(rate_limit_hits.c.hits).where(rate_limit_hits.c.bucket == self.bucket(subject), rate_limit_hits.c.window_start == start)
        )
        return hits or 0

    async def check(self, session: AsyncSession, subject: str, *, clock: Clock) -> None:
        """Refuse when the subject already used up this window (without counting this call)."""
        await check_all(session, [(self, subject)], clock=clock)

    async def record(self, session: AsyncSession, subject: str, *, clock: Clock) -> int:
        start = _window_start(clock.now(), self.window)
        upsert = (
            insert(rate_limit_hits)
            .values(bucket=self.bucket(subject), window_start=start, hits=1)
            .on_conflict_do_update(
                index_elements=[rate_limit_hits.c.bucket, rate_limit_hits.c.window_start],
                set_={"hits": rate_limit_hits.c.hits + 1},
            )
            .returning(rate_limit_hits.c.hits)
        )
        hits: int = (await session.execute(upsert)).scalar_one()
        return hits

    async def consume(self, session: AsyncSession, subject: str, *, clock: Clock) -> None:
        """Count this call and refuse it when it goes over the limit."""
        if await self.record(session, subject, clock=clock) > self.limit:
            raise self.refusal(clock)

    def refusal(self, clock: Clock) -> Problem:
        """The 429 for a caller over this limit, counted."""
        self.count_refusal()
        return too_many_requests(self._retry_after(clock))

    def count_refusal(self) -> None:
        """`cet_rate_limit_refusals{limit=<name>}`: refusals are counted, never logged one by one."""
        RATE_LIMIT_REFUSALS.labels(self.name).inc()

    def _retry_after(self, clock: Clock) -> int:
        now = clock.now()
        end = _window_start(now, self.window) + self.window
        return int((end - now).total_seconds()) + 1


async def check_all(session: AsyncSession, checks: Sequence[tuple[RateLimit, str]], *, clock: Clock) -> None:
    """`RateLimit.check` of several (limit, subject) pairs in one statement: a log-in checks its
    account and its client address with one round trip. The first pair over its limit refuses."""
    now = clock.now()
    keys = [(limit.bucket(subject), _window_start(now, limit.window)) for limit, subject in checks]
    t = rate_limit_hits
    rows = await session.execute(select(t.c.bucket, t.c.window_start, t.c.hits).where(tuple_(t.c.bucket, t.c.window_start).in_(keys)))
    hits = {(row.bucket, row.window_start): row.hits for row in rows}
    for (limit, _), key in zip(checks, keys, strict=True):
        if hits.get(key, 0) >= limit.limit:
            raise limit.refusal(clock)


async def record_all(session: AsyncSession, hits: Sequence[tuple[RateLimit, str]], *, clock: Clock) -> None:
    """`RateLimit.record` of several (limit, subject) pairs in one statement (distinct buckets)."""
    now = clock.now()
    rows = [{"bucket": limit.bucket(subject), "window_start": _window_start(now, limit.window), "hits": 1} for limit, subject in hits]
    upsert = insert(rate_limit_hits).values(rows)
    await session.execute(
        upsert.on_conflict_do_update(index_elements=[rate_limit_hits.c.bucket, rate_limit_hits.c.window_start], set_={"hits": rate_limit_hits.c.hits + 1})
    )


async def forget_old_windows(session: AsyncSession, *, clock: Clock, older_than: timedelta = timedelta(days=1)) -> int:
    result = await session.execute(delete(rate_limit_hits).where(rate_limit_hits.c.window_start < clock.now() - older_than))
    return cast(CursorResult[Any], result).rowcount or 0  # a DELETE's result has a row count
