"""Enrolment's worker: event consumers, the outbox relay, the 24 h sweeper (N8), the empty
registrations' timer (E9), arrangement jobs (N13), housekeeping."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from enrolment.bootstrap import EnrolmentContainer
from enrolment.events.consumers import build_consumers
from enrolment.service.arrangement_job import ArrangementRun, run_arrangements
from enrolment.service.empty_registrations import close_empty_registrations
from enrolment.service.expiry import expire_due


def build_worker(ctx: EnrolmentContainer) -> Worker:
    settings = ctx.settings
    expiry = PeriodicJob(
        "expire-unpaid",
        settings.expiry_sweep_interval.total_seconds(),
        lambda: expire_due(ctx.unit_of_work, ctx.clock, settings.unpaid_lifetime, settings.expiry_batch_size),
    )
    empty = PeriodicJob(
        "close-empty-registrations",
        settings.release_sweep_every.total_seconds(),
        lambda: close_empty_registrations(ctx.unit_of_work, ctx.clock, lifetime=settings.empty_registration_lifetime, batch_size=settings.release_batch_size),
    )
    run = ArrangementRun.of(settings)
    # N13: arrangement jobs, claimed under a lease and resumed where a dead worker stopped.
    arrangement = PeriodicJob("arrangement", settings.arrangement_every.total_seconds(), lambda: run_arrangements(ctx.unit_of_work, ctx.clock, run))
    return service_worker("enrolment", ctx, consumers=build_consumers(ctx), jobs=[expiry, empty, arrangement])
