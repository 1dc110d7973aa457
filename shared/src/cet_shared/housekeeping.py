"""Retention of the common tables, the same job in every service's worker.

- published outbox rows after `outbox` (they are in Kafka; unpublished rows are never touched);
- inbox rows after `inbox`, which must exceed the topics' retention (deploy/topics.toml, 14 days):
  a re-send older than the inbox's memory would no longer be recognised as a duplicate;
- resolved dead letters after `dead_letters` (dead and parked ones stay until someone acts);
- rate-limit windows after a day, spent captcha nonces once expired.

Deletes go in small batches, each its own short transaction (SKIP LOCKED), so the job never holds
many row locks or bloats one transaction, and several worker replicas may run it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True)
class Retention:
    outbox: timedelta = timedelta(days=3)
    inbox: timedelta = timedelta(days=21)
    dead_letters: timedelta = timedelta(days=90)
    rate_limit_windows: timedelta = timedelta(days=1)
    batch: int = 500
    max_batches: int = 200  # per table and run: the rest waits for the next run


# table -> (what identifies a row, which rows may go; :cutoff is now - retention)
_PRUNABLE = {
    "outbox": ("id", "published_at IS NOT NULL AND published_at < :cutoff"),
    "inbox": ("ctid", "processed_at < :cutoff"),
    "dead_letters": ("id", "state IN ('replayed', 'discarded') AND resolved_at < :cutoff"),
    "rate_limit_hits": ("ctid", "window_start < :cutoff"),
    "captcha_nonces": ("ctid", "expires_at < :cutoff"),
}


async def prune_table(sessions: async_sessionmaker[AsyncSession], table: str, cutoff: datetime, *, batch: int, max_batches: int) -> int:
    identity, condition = _PRUNABLE[table]
    return await prune_rows(sessions, table, identity, condition, cutoff, batch=batch, max_batches=max_batches)


async def prune_rows(
    sessions: async_sessionmaker[AsyncSession], table: str, identity: str, condition: str, cutoff: datetime, *, batch: int = 500, max_batches: int = 200
) -> int:
    """Deletes the rows of `table` matching `condition` (:cutoff bound) in small SKIP LOCKED batches;
    also for a service's own tables (`table`, `identity` and `condition` are code, never input)."""
    statement = text(
        f"DELETE FROM {table} WHERE {identity} IN "  # noqa: S608 - names from the fixed table above
        f"(SELECT {identity} FROM {table} WHERE {condition} LIMIT :batch FOR UPDATE SKIP LOCKED)"
    )
    removed = 0
    for _ in range(max_batches):
        async with sessions() as session, session.begin():
            result = await session.execute(statement, {"cutoff": cutoff, "batch": batch})
            count = cast(CursorResult[Any], result).rowcount or 0  # a DELETE's result has a row count
        removed += count
        if count < batch:
            break
    return removed


async def prune(
    sessions: async_sessionmaker[AsyncSession], retention: Retention, *, now: datetime | None = None, tables: tuple[str, ...] | None = None
) -> dict[str, int]:
    now = now or datetime.now(UTC)
    cutoffs = {
        "outbox": now - retention.outbox,
        "inbox": now - retention.inbox,
        "dead_letters": now - retention.dead_letters,
        "rate_limit_hits": now - retention.rate_limit_windows,
        "captcha_nonces": now,
    }
    return {
        table: await prune_table(sessions, table, cutoffs[table], batch=retention.batch, max_batches=retention.max_batches)
        for table in (tables or tuple(_PRUNABLE))
    }
