"""Eligibility's worker: the projections' consumers (E9's release among them), the outbox relay,
the registry and score import jobs, and the common housekeeping (outbox, inbox, captcha nonces,
rate-limit windows)."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from eligibility.bootstrap import EligibilityContainer
from eligibility.events.consumers import build_consumers
from eligibility.service.import_jobs import run_queued_imports


def build_worker(ctx: EligibilityContainer) -> Worker:
    # Registry and score import jobs: claimed under a lease (SKIP LOCKED), resumed after a dead worker.
    imports = PeriodicJob(
        "registry-imports",
        ctx.settings.import_poll_every.total_seconds(),
        lambda: run_queued_imports(ctx.unit_of_work().imports, ctx.clock, ctx.import_pace()),
    )
    return service_worker("eligibility", ctx, consumers=build_consumers(ctx), jobs=[imports])
