"""Passport's worker: the outbox relay, mail delivery, and clean-up of spent captcha nonces."""

from __future__ import annotations

from cet_shared.captcha import forget_expired_nonces
from cet_shared.ratelimit import forget_old_windows
from cet_shared.worker import PeriodicJob, Worker
from passport.bootstrap import Passport
from passport.events.consumers import build_consumers


async def _housekeeping(ctx: Passport) -> int:
    async with ctx.sessions() as session, session.begin():
        return await forget_expired_nonces(session, clock=ctx.clock) + await forget_old_windows(session, clock=ctx.clock)


def build_worker(ctx: Passport) -> Worker:
    return Worker(
        "passport",
        engine=ctx.engine,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        consumers=build_consumers(ctx),
        jobs=[
            PeriodicJob("mail", 1.0, ctx.mail.send_pending),
            PeriodicJob("housekeeping", 300.0, lambda: _housekeeping(ctx)),
        ],
        relay_batch_size=ctx.settings.outbox_batch_size,
        relay_poll_interval=ctx.settings.outbox_poll_interval.total_seconds(),
        topic_prefix=ctx.settings.kafka_topic_prefix,
    )
