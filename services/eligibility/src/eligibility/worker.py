"""Eligibility's worker: the projections' consumers, the outbox relay, the E9 sweeper of empty
registrations, and the common housekeeping (outbox, inbox, captcha nonces, rate-limit windows)."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from eligibility.bootstrap import EligibilityContainer
from eligibility.events.consumers import build_consumers
from eligibility.service.release import release_empty_registrations


def build_worker(ctx: EligibilityContainer) -> Worker:
    # Several worker replicas may sweep at once: rows are locked with SKIP LOCKED.
    sweep = PeriodicJob(
        "release-empty-registrations",
        ctx.settings.release_sweep_every.total_seconds(),
        lambda: release_empty_registrations(
            ctx.unit_of_work(), ctx.clock, lifetime=ctx.settings.empty_registration_lifetime, batch_size=ctx.settings.release_batch_size
        ),
    )
    return service_worker("eligibility", ctx, consumers=build_consumers(ctx), jobs=[sweep])
