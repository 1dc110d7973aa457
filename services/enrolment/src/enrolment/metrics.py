"""Enrolment's figures for a sign-up peak, refreshed on scrape (cached, never per request).

Holds per second and refusals by reason come from the shared HTTP metrics of `POST /me/oral`
(`cet_http_requests_total`, `cet_http_problems_total{code=...}`).
"""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cet_shared.metrics import CachedGauge, Samples

# Oral (capacity-limited) offerings of the sessions whose registration window is open now.
_REMAINING = text(
    "SELECT o.campus_code, o.subject_code, sum(o.remaining) AS remaining, sum(o.capacity) AS capacity"
    " FROM offerings o JOIN exam_sessions s ON s.id = o.exam_session_id"
    " WHERE o.capacity IS NOT NULL AND s.published_at IS NOT NULL"
    " AND now() >= s.registration_opens_at AND now() < s.registration_closes_at"
    " GROUP BY o.campus_code, o.subject_code"
)

SEATS_REMAINING = Gauge("cet_enrolment_seats_remaining", "oral seats left, per campus and subject, in open sessions", ("campus", "subject"))
SEATS_CAPACITY = Gauge("cet_enrolment_seats_capacity", "oral seats offered, per campus and subject, in open sessions", ("campus", "subject"))


async def _seats(engine: AsyncEngine) -> list:
    async with engine.connect() as connection:
        return (await connection.execute(_REMAINING)).all()


async def _remaining(engine: AsyncEngine) -> Samples:
    return [((row.campus_code.strip(), row.subject_code), row.remaining) for row in await _seats(engine)]


async def _capacity(engine: AsyncEngine) -> Samples:
    return [((row.campus_code.strip(), row.subject_code), row.capacity) for row in await _seats(engine)]


GAUGES = (CachedGauge(SEATS_REMAINING, _remaining, ttl=5.0), CachedGauge(SEATS_CAPACITY, _capacity, ttl=30.0))
