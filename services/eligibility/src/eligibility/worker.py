"""Eligibility's worker: the projections' consumers, the outbox relay, the E9 sweeper of empty
registrations, and clean-up of spent captcha nonces and old rate-limit windows."""

from __future__ import annotations

from cet_shared.captcha import forget_expired_nonces
from cet_shared.ratelimit import forget_old_windows
from cet_shared.revocations import revocation_consumer
from cet_shared.worker import PeriodicJob, Worker
from eligibility.bootstrap import Eligibility
from eligibility.events.consumers import build_consumers
from eligibility.service.registrations import release_empty_registrations


async def _housekeeping(ctx: Eligibility) -> int:
    async with ctx.sessions() as session, session.begin():
        return await forget_expired_nonces(session, clock=ctx.clock) + await forget_old_windows(session, clock=ctx.clock)


def build_worker(ctx: Eligibility) -> Worker:
    return Worker(
        "eligibility",
        engine=ctx.engine,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        consumers=[*build_consumers(ctx), revocation_consumer("eligibility", ctx)],
        jobs=[
            # Several worker replicas may sweep at once: rows are locked with SKIP LOCKED.
            PeriodicJob("release-empty-registrations", ctx.settings.release_sweep_every.total_seconds(), lambda: release_empty_registrations(ctx)),
            PeriodicJob("housekeeping", 300.0, lambda: _housekeeping(ctx)),
        ],
        relay_batch_size=ctx.settings.outbox_batch_size,
        relay_poll_interval=ctx.settings.outbox_poll_interval.total_seconds(),
        topic_prefix=ctx.settings.kafka_topic_prefix,
    )
