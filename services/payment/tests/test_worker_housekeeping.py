"""Payment's worker runs the common housekeeping too (issue 16): payment writes rate_limit_hits
(the notify throttle) and inbox/outbox rows, so without it they grow for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from payment.worker import build_worker


async def test_the_worker_prunes_old_rate_limit_windows_and_keeps_the_current_one(world) -> None:
    now = datetime.now(UTC)
    async with world.ctx.sessions() as session, session.begin():
        for bucket, started in (("notify:203.0.113.7", now - timedelta(days=2)), ("notify:203.0.113.7", now - timedelta(seconds=30))):
            await session.execute(text("INSERT INTO rate_limit_hits (bucket, window_start, hits) VALUES (:b, :w, 3)"), {"b": bucket, "w": started})

    jobs = {job.name: job for job in build_worker(world.ctx).jobs}
    assert {"refunds", "reconciliation", "housekeeping"} <= set(jobs)
    assert await jobs["housekeeping"].run() == 1

    async with world.ctx.sessions() as session:
        left = (await session.execute(text("SELECT window_start FROM rate_limit_hits"))).scalars().all()
    assert left == [now - timedelta(seconds=30)]
