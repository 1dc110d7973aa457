"""Eligibility's worker: the projections' consumers, the outbox relay, the E9 sweeper of empty
registrations, the registry and score import jobs, and the common housekeeping (outbox, inbox,
captcha nonces, rate-limit windows)."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from eligibility.bootstrap import EligibilityContainer
from eligibility.events.consumers import build_consumers
from eligibility.service.import_jobs import run_queued_imports
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
    # Registry and score import jobs: claimed under a lease (SKIP LOCKED), resumed after a dead worker.
    imports = PeriodicJob(
        "registry-imports",
        ctx.settings.import_poll_every.total_seconds(),
        lambda: run_queued_imports(ctx.unit_of_work().imports, ctx.clock, ctx.import_pace()),
    )
    return service_worker("eligibility", ctx, consumers=build_consumers(ctx), jobs=[sweep, imports])
