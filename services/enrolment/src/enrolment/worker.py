"""Enrolment's worker: event consumers, the outbox relay, the 24 h sweeper (N8), housekeeping."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from enrolment.bootstrap import EnrolmentContainer
from enrolment.events.consumers import build_consumers
from enrolment.service.arrangement_job import ArrangementRun, run_arrangements
from enrolment.service.expiry import expire_due


def build_worker(ctx: EnrolmentContainer) -> Worker:
    expiry = PeriodicJob(
        "expire-unpaid",
        ctx.settings.expiry_sweep_interval.total_seconds(),
        lambda: expire_due(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, ctx.settings.expiry_batch_size),
    )
    run = ArrangementRun.of(ctx.settings)
    # N13: arrangement jobs, claimed under a lease and resumed where a dead worker stopped.
    arrangement = PeriodicJob("arrangement", ctx.settings.arrangement_every.total_seconds(), lambda: run_arrangements(ctx.unit_of_work, ctx.clock, run))
    return service_worker("enrolment", ctx, consumers=build_consumers(ctx), jobs=[expiry, arrangement])
