"""Rejected notifications are kept only as long as `notify_rejected_retention` (issue 13): a forger's
bodies (already cut and throttled per source) must not pile up; verified ones stay, they are the
trail of the money."""

from __future__ import annotations

from cet_shared.housekeeping import prune_rows
from payment.bootstrap import PaymentContainer


async def prune_rejected_notifications(ctx: PaymentContainer) -> int:
    cutoff = ctx.clock.now() - ctx.settings.notify_rejected_retention
    return await prune_rows(ctx.sessions, "notifications", "id", "NOT verified AND received_at < :cutoff", cutoff)
