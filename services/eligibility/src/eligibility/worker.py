"""Eligibility's worker: the projections' consumers (E9's release among them), the outbox relay,
and the common housekeeping (outbox, inbox, captcha nonces, rate-limit windows)."""

from __future__ import annotations

from cet_shared.worker import Worker, service_worker
from eligibility.bootstrap import EligibilityContainer
from eligibility.events.consumers import build_consumers


def build_worker(ctx: EligibilityContainer) -> Worker:
    return service_worker("eligibility", ctx, consumers=build_consumers(ctx))
