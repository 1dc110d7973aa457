"""Prometheus metrics every process exports (`cet_...`), with bounded label sets.

- HTTP: requests, problems (by their stable `code`), durations and requests in flight, per route
  *template* (`/me/oral`, `/orders/{order_id}`), never per raw path;
- the SQLAlchemy pool of every engine the process uses, read on scrape (no I/O);
- figures that need a database read (seats remaining, outbox backlog) come from `CachedGauge`s:
  refreshed at most once per `ttl` on scrape, never per request.

The service and replica are not labels here: Prometheus' scrape configuration adds `service`,
`role` and `instance` (deploy/observability/prometheus_config.py).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
disable_created_metrics()  # the `_created` series would double the exposition and show nobody anything

# Latency buckets around the seat grab's budget (hundreds of milliseconds at a peak).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter("cet_http_requests", "HTTP requests answered", ("method", "route", "status"))
HTTP_PROBLEMS = Counter("cet_http_problems", "problem+json answers by their stable code", ("method", "route", "code"))
HTTP_DURATION = Histogram("cet_http_request_duration_seconds", "time to answer", ("method", "route"), buckets=LATENCY_BUCKETS)
# Refused requests are counted here, by the limit that refused them, never logged one by one: a
# flood must not fill a disk (issue 13). The limit's name is a fixed word, never the subject.
RATE_LIMIT_REFUSALS = Counter("cet_rate_limit_refusals", "requests refused by a rate limit", ("limit",))
HTTP_IN_PROGRESS = Gauge("cet_http_requests_in_progress", "requests reading or answering now (from their first body read)", ("method", "route"))


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    # path_format: "/orders/{order_id}" for a route declared as "/orders/{order_id:uuid}"
    return getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED_ROUTE


def note_problem(scope: Scope, code: str) -> None:
    """Called where a problem+json answer is built, so the metrics know its code."""
    scope.setdefault("state", {})["problem_code"] = code


class HttpMetrics:
    """ASGI middleware (outermost): counts and times every request by its route template."""

    def __init__(self, app: ASGIApp, excluded: Iterable[str] = ("/metrics", "/healthz", "/readyz")) -> None:
        self.app = app
        self.excluded = frozenset(excluded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.excluded:
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"  # clients choose methods: keep the labels bounded
        in_flight: Gauge | None = None

        async def receiving() -> Message:
            # Routing runs inside the app: the route template is known once the endpoint reads
            # its body. Long uploads (registry imports) are what the in-flight gauge is for.
            nonlocal in_flight
            if in_flight is None and "route" in scope:
                in_flight = HTTP_IN_PROGRESS.labels(method, route_template(scope))
                in_flight.inc()
            return await receive()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            if in_flight is not None:
                in_flight.dec()
            route = route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
            code = scope.get("state", {}).get("problem_code")
            if code is None and status >= 500:
                code = "internal_error"
            if code is not None:
                HTTP_PROBLEMS.labels(method, route, code).inc()


class _EnginePools(Collector):
    """Connections checked out of, and allowed by, each engine's pool (DB connections near the limit)."""

    def __init__(self) -> None:
        self.engines: weakref.WeakValueDictionary[str, AsyncEngine] = weakref.WeakValueDictionary()

    def collect(self) -> Iterable[GaugeMetricFamily]:
        in_use = GaugeMetricFamily("cet_db_pool_connections_in_use", "connections checked out of the pool", labels=("pool",))
        limit = GaugeMetricFamily("cet_db_pool_connections_max", "pool size plus overflow", labels=("pool",))
        for name, engine in list(self.engines.items()):
            pool = engine.sync_engine.pool
            if not hasattr(pool, "checkedout"):
                continue
            in_use.add_metric([name], pool.checkedout())
            limit.add_metric([name], cast(QueuePool, pool).size() + max(getattr(pool, "_max_overflow", 0), 0))  # a QueuePool (checked above)
        yield in_use
        yield limit


_POOLS = _EnginePools()
REGISTRY.register(_POOLS)


def watch_engine(engine: AsyncEngine, name: str = "main") -> None:
    _POOLS.engines[name] = engine


Samples = Sequence[tuple[Sequence[str], float]]


@dataclass
class CachedGauge:
    """A gauge whose samples come from a database read, refreshed on scrape at most every `ttl` s."""

    gauge: Gauge
    fetch: Callable[[AsyncEngine], Awaitable[Samples]]
    ttl: float = 10.0
    _fresh_until: float = 0.0

    async def refresh(self, engine: AsyncEngine) -> None:
        if time.monotonic() < self._fresh_until:
            return
        self._fresh_until = time.monotonic() + self.ttl
        try:
            samples = await self.fetch(engine)
        except Exception as exc:  # noqa: BLE001 - a scrape must still answer while the database is away
            log.warning("metrics: %s not refreshed: %r", self.gauge._name, exc)
            return
        self.gauge.clear()
        for labels, value in samples:
            (self.gauge.labels(*labels) if labels else self.gauge).set(value)


async def exposition(engine: AsyncEngine | None, gauges: Sequence[CachedGauge] = ()) -> tuple[bytes, str]:
    """The text format Prometheus scrapes, after refreshing any stale cached gauges."""
    if engine is not None:
        for gauge in gauges:
            await gauge.refresh(engine)
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def broker_middlewares() -> tuple[Any, ...]:
    """FastStream's consumer spans and its Prometheus figures (`cet_kafka_...`) for every broker."""
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
    from faststream.kafka.prometheus import KafkaPrometheusMiddleware

    return (KafkaTelemetryMiddleware(), KafkaPrometheusMiddleware(registry=REGISTRY, metrics_prefix="cet_kafka"))
