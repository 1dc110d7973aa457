"""Inbox, captcha seal and rate limits on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import ManualClock
from cet_shared.inbox import first_delivery
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit


async def test_inbox_admits_an_event_once_even_concurrently(unit_of_work):
    event_id = uuid.uuid4()

    async def deliver() -> bool:
        async with unit_of_work() as uow:
            first = await first_delivery(uow.session, consumer="c", event_id=event_id, event_type="X")
            await uow.commit()
            return first

    results = await asyncio.gather(*(deliver() for _ in range(8)))
    assert results.count(True) == 1
    async with unit_of_work() as uow:
        assert await first_delivery(uow.session, consumer="another-consumer", event_id=event_id, event_type="X")


async def test_p3_sealed_captcha_verifies_offline_once(unit_of_work):
    clock = ManualClock()
    seal, other_service = CaptchaSeal("s3cret-shared-by-services"), CaptchaSeal("s3cret-shared-by-services")
    token = seal.seal("AB3D", clock=clock, ttl=timedelta(minutes=5))
    assert "AB3D" not in token
    async with unit_of_work() as uow:
        await other_service.verify(uow.session, token, "ab3d", clock=clock)
        await uow.commit()
    async with unit_of_work() as uow:
        with pytest.raises(Problem):
            await other_service.verify(uow.session, token, "AB3D", clock=clock)
    wrong_secret = CaptchaSeal("another-secret").seal("AB3D", clock=clock, ttl=timedelta(minutes=5))
    async with unit_of_work() as uow:
        with pytest.raises(Problem):
            await seal.verify(uow.session, wrong_secret, "AB3D", clock=clock)


async def test_rate_limit_windows(unit_of_work):
    clock = ManualClock()
    limit = RateLimit("query", 3, timedelta(minutes=1))
    for _ in range(3):
        async with unit_of_work() as uow:
            await limit.consume(uow.session, "client-1", clock=clock)
            await uow.commit()
    async with unit_of_work() as uow:
        with pytest.raises(Problem) as refused:
            await limit.consume(uow.session, "client-1", clock=clock)
        await limit.consume(uow.session, "client-2", clock=clock)
    assert refused.value.status == 429
    clock.advance(timedelta(minutes=1))
    async with unit_of_work() as uow:
        await limit.consume(uow.session, "client-1", clock=clock)


async def test_refused_requests_are_counted_by_limit_not_logged(unit_of_work, caplog):
    """Issue 13: a refusal is a metric (`cet_rate_limit_refusals{limit}`), never a log line per
    request, so a flood cannot fill a disk; `check` and `consume` both count."""
    from prometheus_client import REGISTRY

    def refusals() -> float:
        return REGISTRY.get_sample_value("cet_rate_limit_refusals_total", {"limit": "flood-probe"}) or 0.0

    clock = ManualClock()
    limit = RateLimit("flood-probe", 1, timedelta(minutes=1))
    before = refusals()
    caplog.set_level("DEBUG")
    async with unit_of_work() as uow:
        await limit.consume(uow.session, "client", clock=clock)
        for _ in range(5):
            with pytest.raises(Problem):
                await limit.consume(uow.session, "client", clock=clock)
        with pytest.raises(Problem):
            await limit.check(uow.session, "client", clock=clock)
        await uow.commit()
    assert refusals() - before == 6
    assert not [r for r in caplog.records if r.name.startswith("cet_shared")], caplog.records
