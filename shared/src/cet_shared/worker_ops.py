"""A worker's face for operators: its own small HTTP port (`/metrics`, `/healthz`, `/readyz`) and
the figures only a worker can give, collected every few seconds, never per event:

- consumer lag per group and partition (end offset minus committed offset, of the partitions this
  replica is assigned), events applied / dropped as duplicates / dead-lettered per group;
- the outbox: backlog, age of the oldest unpublished row, rows published, whether this replica leads;
- database connections on the server against `max_connections` (and the pool's, as every process).

The port is `WORKER_METRICS_PORT` (0, the default, opens none: tests that build workers in-process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import uvicorn
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cet_shared.metrics import exposition, watch_engine
from cet_shared.telemetry import TelemetrySettings, instrument_engine

log = logging.getLogger(__name__)
COLLECT_EVERY = 5.0

# Collected figures: name → help. Exported by worker processes only (an api importing this module
# must not report an outbox backlog of 0).
_COLLECTED = {
    "cet_outbox_backlog": "outbox rows not yet published",
    "cet_outbox_oldest_unpublished_age_seconds": "age of the oldest unpublished outbox row (0: none)",
    "cet_db_server_connections": "connections open on the database server",
    "cet_db_server_max_connections": "the database server's max_connections",
}

_OUTBOX = text("SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest FROM outbox WHERE published_at IS NULL")
_SERVER = text("SELECT (SELECT count(*) FROM pg_stat_activity), current_setting('max_connections')::int")


class _WorkerFigures(Collector):
    """Read on scrape from the running workers' own objects: the consumers' and the relay's counts."""

    def __init__(self) -> None:
        self.workers: weakref.WeakSet[WorkerOps] = weakref.WeakSet()

    def collect(self) -> Iterator[Any]:
        events = CounterMetricFamily("cet_consumer_events", "events handled, by outcome", labels=("group", "outcome"))
        dead = CounterMetricFamily("cet_consumer_dead_letters", "messages sent to the group's dead-letter topic", labels=("group",))
        published = CounterMetricFamily("cet_outbox_published", "outbox rows this process published")
        leader = GaugeMetricFamily("cet_outbox_relay_leader", "1 when this process' relay holds the leader lock")
        workers = list(self.workers)
        if not workers:
            return  # an api process that merely imported this module
        relays = [ops.relay for ops in workers if ops.relay is not None]
        lag = GaugeMetricFamily("cet_consumer_lag", "records not yet committed by the group", labels=("group", "topic", "partition"))
        for ops in workers:
            for group, topic, partition, value in ops.lags:
                lag.add_metric([group, topic, str(partition)], value)
        yield lag
        for name, documentation in _COLLECTED.items():
            values = [ops.collected[name] for ops in workers if name in ops.collected]
            if values:
                family = GaugeMetricFamily(name, documentation)
                family.add_metric([], max(values))
                yield family
        for consumer in (c for ops in workers for c in ops.consumers):
            events.add_metric([consumer.group, "applied"], consumer.applied)
            events.add_metric([consumer.group, "duplicate"], consumer.duplicates_dropped)
            dead.add_metric([consumer.group], consumer.dead_lettered)
        published.add_metric([], sum(relay.published for relay in relays))
        leader.add_metric([], 1 if any(relay.is_leader for relay in relays) else 0)
        yield from (events, dead, published, leader)


_FIGURES = _WorkerFigures()
REGISTRY.register(_FIGURES)


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the worker handles SIGTERM/SIGINT itself


class WorkerOps:
    def __init__(self, name: str, *, engine: AsyncEngine, broker: Any, consumers: Sequence[Any], relay: Any) -> None:
        self.name, self.engine, self.broker, self.consumers, self.relay = name, engine, broker, consumers, relay
        self.settings = TelemetrySettings()
        self._tasks: list[asyncio.Task[None]] = []
        self._server: _EmbeddedServer | None = None
        self.collected: dict[str, float] = {}
        self.lags: list[tuple[str, str, int, int]] = []

    async def start(self) -> None:
        watch_engine(self.engine)
        instrument_engine(self.engine)
        _FIGURES.workers.add(self)
        self._tasks.append(asyncio.create_task(self._collect_forever(), name=f"{self.name}-metrics"))
        if self.settings.worker_metrics_port:
            config = uvicorn.Config(
                self._app(),
                host=self.settings.worker_metrics_host,
                port=self.settings.worker_metrics_port,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
            self._server = _EmbeddedServer(config)
            self._tasks.append(asyncio.create_task(self._serve(), name=f"{self.name}-ops-http"))

    async def _serve(self) -> None:
        assert self._server is not None  # set by start() before this task
        try:
            await self._server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind: the worker's real work goes on
            log.error("%s: ops port %s not served (in use?): no /metrics, /healthz, /readyz", self.name, self.settings.worker_metrics_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks[:1]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        _FIGURES.workers.discard(self)

    # -- HTTP ---------------------------------------------------------------------------------
    def _app(self) -> Starlette:
        async def metrics(_: Request) -> Response:
            body, content_type = await exposition(None)
            return Response(body, media_type=content_type)

        async def healthz(_: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        async def readyz(_: Request) -> JSONResponse:
            problems = [] if getattr(self.broker, "running", False) else ["broker"]
            try:
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception:  # noqa: BLE001 - any failure means not ready
                problems.append("database")
            if problems:
                return JSONResponse({"status": "not_ready", "waiting_for": problems}, status_code=503)
            return JSONResponse({"status": "ready"})

        return Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz), Route("/readyz", readyz)])

    # -- periodic figures -----------------------------------------------------------------------
    async def _collect_forever(self) -> None:
        while True:
            try:
                await self.collect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the figures wait for the next round; the worker goes on
                log.warning("%s: metrics not collected: %r", self.name, exc)
            await asyncio.sleep(COLLECT_EVERY)

    async def collect(self) -> None:
        async with self.engine.connect() as connection:
            outbox = (await connection.execute(_OUTBOX)).one()
            connections, max_connections = (await connection.execute(_SERVER)).one()
        self.collected = {
            "cet_outbox_backlog": outbox.backlog,
            "cet_outbox_oldest_unpublished_age_seconds": float(outbox.oldest),
            "cet_db_server_connections": connections,
            "cet_db_server_max_connections": max_connections,
        }
        self.lags = [lag async for lag in self._lags()]

    async def _lags(self) -> Any:
        for consumer in _kafka_consumers(self.broker):
            assigned = list(consumer.assignment())
            if not assigned:
                continue
            ends = await consumer.end_offsets(assigned)
            group = getattr(consumer, "_group_id", None) or "-"
            for tp in assigned:
                committed = await consumer.committed(tp)
                yield group, tp.topic, tp.partition, max(ends.get(tp, 0) - (committed or 0), 0)


def _kafka_consumers(broker: Any) -> Iterable[Any]:
    for subscriber in getattr(broker, "subscribers", ()):
        consumer = getattr(subscriber, "consumer", None)
        if consumer is not None:
            yield consumer
