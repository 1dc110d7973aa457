"""Rejected notifications are kept only as long as `notify_rejected_retention` (issue 13): a forger's
bodies (already cut and throttled per source) must not pile up; verified ones stay, they are the
trail of the money."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import Clock
from cet_shared.housekeeping import prune_rows
from payment.settings import PaymentSettings


async def prune_rejected_notifications(sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: PaymentSettings) -> int:
    cutoff = clock.now() - settings.notify_rejected_retention
    return await prune_rows(sessions, "notifications", "id", "NOT verified AND received_at < :cutoff", cutoff)
