"""Enrolment's worker: event consumers, the outbox relay, and the 24 h sweeper (N8)."""

from __future__ import annotations

from cet_shared.ratelimit import forget_old_windows
from cet_shared.revocations import revocation_consumer
from cet_shared.worker import PeriodicJob, Worker
from enrolment.bootstrap import Enrolment
from enrolment.events.consumers import build_consumers
from enrolment.service.expiry import expire_due


async def _housekeeping(ctx: Enrolment) -> int:
    async with ctx.sessions() as session, session.begin():
        return await forget_old_windows(session, clock=ctx.clock)


def build_worker(ctx: Enrolment) -> Worker:
    return Worker(
        "enrolment",
        engine=ctx.engine,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        consumers=[*build_consumers(ctx), revocation_consumer("enrolment", ctx)],
        jobs=[
            PeriodicJob("expire-unpaid", ctx.settings.expiry_sweep_interval.total_seconds(), lambda: expire_due(ctx)),
            PeriodicJob("housekeeping", 300.0, lambda: _housekeeping(ctx)),
        ],
        relay_batch_size=ctx.settings.outbox_batch_size,
        relay_poll_interval=ctx.settings.outbox_poll_interval.total_seconds(),
        topic_prefix=ctx.settings.kafka_topic_prefix,
    )
