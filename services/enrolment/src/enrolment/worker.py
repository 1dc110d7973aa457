"""Enrolment's worker: event consumers, the outbox relay, the 24 h sweeper (N8), housekeeping."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from enrolment.bootstrap import EnrolmentContainer
from enrolment.events.consumers import build_consumers
from enrolment.service.expiry import expire_due


def build_worker(ctx: EnrolmentContainer) -> Worker:
    expiry = PeriodicJob(
        "expire-unpaid",
        ctx.settings.expiry_sweep_interval.total_seconds(),
        lambda: expire_due(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, ctx.settings.expiry_batch_size),
    )
    return service_worker("enrolment", ctx, consumers=build_consumers(ctx), jobs=[expiry])
