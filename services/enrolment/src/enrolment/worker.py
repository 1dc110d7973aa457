"""Enrolment's worker: event consumers, the outbox relay, the 24 h sweeper (N8), housekeeping."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from enrolment.bootstrap import Enrolment
from enrolment.events.consumers import build_consumers
from enrolment.service.expiry import expire_due


def build_worker(ctx: Enrolment) -> Worker:
    expiry = PeriodicJob("expire-unpaid", ctx.settings.expiry_sweep_interval.total_seconds(), lambda: expire_due(ctx))
    return service_worker("enrolment", ctx, consumers=build_consumers(ctx), jobs=[expiry])
