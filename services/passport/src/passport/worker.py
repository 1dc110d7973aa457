"""Passport's worker: the outbox relay, mail delivery, and the common housekeeping."""

from __future__ import annotations

from cet_shared.worker import PeriodicJob, Worker, service_worker
from passport.bootstrap import PassportContainer
from passport.events.consumers import build_consumers


def build_worker(ctx: PassportContainer) -> Worker:
    return service_worker("passport", ctx, consumers=build_consumers(ctx), jobs=[PeriodicJob("mail", 1.0, ctx.mail.send_pending)])
