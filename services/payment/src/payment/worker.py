"""Payment's worker: projections and RefundRequired, the outbox relay, refunds, daily reconciliation."""

from __future__ import annotations

from cet_shared.revocations import revocation_consumer
from cet_shared.worker import PeriodicJob, Worker
from payment.bootstrap import Payment
from payment.events.consumers import build_consumers
from payment.service.reconciliation import reconcile_yesterday_if_due
from payment.service.refunds import process_pending


def build_worker(ctx: Payment) -> Worker:
    return Worker(
        "payment",
        engine=ctx.engine,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        consumers=[*build_consumers(ctx), revocation_consumer("payment", ctx)],
        jobs=[
            PeriodicJob("refunds", ctx.settings.refund_interval.total_seconds(), lambda: process_pending(ctx)),
            PeriodicJob("reconciliation", ctx.settings.reconcile_check_interval.total_seconds(), lambda: reconcile_yesterday_if_due(ctx)),
        ],
        relay_batch_size=ctx.settings.outbox_batch_size,
        relay_poll_interval=ctx.settings.outbox_poll_interval.total_seconds(),
        topic_prefix=ctx.settings.kafka_topic_prefix,
    )
