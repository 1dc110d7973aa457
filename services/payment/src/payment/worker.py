"""Payment's worker: projections and RefundRequired, the outbox relay, refunds, daily
reconciliation, and the common housekeeping (payment writes rate_limit_hits too)."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from payment.bootstrap import PaymentContainer
from payment.events.consumers import build_consumers
from payment.service.notify_retention import prune_rejected_notifications
from payment.service.reconciliation import reconcile_yesterday_if_due
from payment.service.refunds import process_pending


def build_worker(ctx: PaymentContainer) -> Worker:
    return service_worker(
        "payment",
        ctx,
        consumers=build_consumers(ctx),
        jobs=[
            PeriodicJob(
                "refunds", ctx.settings.refund_interval.total_seconds(), lambda: process_pending(ctx.unit_of_work(), ctx.clock, ctx.settings, ctx.gateways)
            ),
            PeriodicJob("rejected-notifications", 300.0, lambda: prune_rejected_notifications(ctx.sessions, ctx.clock, ctx.settings)),
            PeriodicJob(
                "reconciliation",
                ctx.settings.reconcile_check_interval.total_seconds(),
                lambda: reconcile_yesterday_if_due(ctx.unit_of_work, ctx.clock, ctx.settings, ctx.gateways),
            ),
        ],
    )
