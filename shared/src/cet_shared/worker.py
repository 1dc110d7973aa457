"""The `worker` entry point shape every service shares: event consumers, the outbox relay and
periodic jobs (sweepers) in one process, stopped cleanly on SIGTERM/SIGINT.

Any number of worker replicas may run: consumer groups share partitions, the relay elects a
leader, and periodic jobs must be safe to run concurrently (row locks, SKIP LOCKED).
`service_worker()` builds a service's worker the one way: its consumers and jobs, plus the
housekeeping every service needs (`cet_shared.housekeeping`) and its static group membership.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.housekeeping import Retention, prune
from cet_shared.messaging import EventConsumer, create_broker
from cet_shared.outbox import OutboxRelay, create_producer
from cet_shared.resilience import retry_transaction
from cet_shared.settings import ServiceSettings
from cet_shared.worker_ops import WorkerOps

log = logging.getLogger(__name__)


HOUSEKEEPING_EVERY_SECONDS = 300.0


class ServiceContainer(Protocol):
    """What the worker needs of a service's composition root."""

    @property
    def settings(self) -> ServiceSettings: ...
    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[int | None]]


class Worker:
    def __init__(
        self,
        name: str,
        *,
        engine: AsyncEngine,
        bootstrap_servers: str,
        consumers: Sequence[EventConsumer] = (),
        jobs: Sequence[PeriodicJob] = (),
        relay_batch_size: int = 500,
        relay_poll_interval: float = 0.2,
        topic_prefix: str = "",
        instance_id: str | None = None,
    ) -> None:
        self.name = name
        self.instance_id = instance_id
        self._engine = engine
        self._bootstrap = bootstrap_servers
        self._consumers = consumers
        self._jobs = jobs
        self._relay_batch_size = relay_batch_size
        self._relay_poll_interval = relay_poll_interval
        self._topic_prefix = topic_prefix
        self._running = asyncio.Event()
        self._stop = asyncio.Event()
        self.relay: OutboxRelay | None = None

    @property
    def jobs(self) -> Sequence[PeriodicJob]:
        return self._jobs

    def stop(self) -> None:
        self._stop.set()

    async def started(self) -> None:
        await self._running.wait()

    async def run(self) -> None:
        producer = create_producer(self._bootstrap, client_id=f"{self.name}-relay")
        broker = create_broker(self._bootstrap, client_id=f"{self.name}-worker")
        await producer.start()
        for consumer in self._consumers:
            consumer.attach(broker, dead_letters=producer, topic_prefix=self._topic_prefix, instance_id=self.instance_id)
        await broker.start()
        self.relay = OutboxRelay(
            self._engine, producer, batch_size=self._relay_batch_size, poll_interval=self._relay_poll_interval, topic_prefix=self._topic_prefix
        )
        ops = WorkerOps(self.name, engine=self._engine, broker=broker, consumers=self._consumers, relay=self.relay)
        await ops.start()  # /metrics, /healthz, /readyz and the periodic figures
        tasks = [asyncio.create_task(self.relay.run(), name=f"{self.name}-relay")]
        tasks += [asyncio.create_task(self._every(job), name=f"{self.name}-{job.name}") for job in self._jobs]
        log.info("%s worker running: %d consumers, %d jobs", self.name, len(self._consumers), len(self._jobs))
        self._running.set()
        try:
            await self._stop.wait()
        finally:
            await ops.stop()
            self.relay.stop()
            for task in tasks[1:]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker.stop()
            await producer.stop()

    async def _every(self, job: PeriodicJob) -> None:
        while not self._stop.is_set():
            try:
                # a deadlock or serialization victim runs again at once, not a period later
                done = await retry_transaction(job.run, what=f"{self.name} {job.name}")
                if done:
                    log.info("%s: %s handled %s", self.name, job.name, done)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: job %s failed", self.name, job.name)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=job.every_seconds)
            except TimeoutError:
                pass


def housekeeping_job(container: ServiceContainer) -> PeriodicJob:
    """Retention of the common tables (outbox, inbox, dead letters, rate-limit windows, captcha
    nonces): every service writes some of them, so every service's worker runs it."""
    settings = container.settings
    retention = Retention(outbox=settings.outbox_retention, inbox=settings.inbox_retention)

    async def housekeeping() -> int:
        return sum((await prune(container.sessions, retention)).values())

    return PeriodicJob("housekeeping", HOUSEKEEPING_EVERY_SECONDS, housekeeping)


def service_worker(name: str, ctx: ServiceContainer, *, consumers: Sequence[EventConsumer] = (), jobs: Sequence[PeriodicJob] = ()) -> Worker:
    """The one way to build a service's worker: its consumers and jobs, plus the housekeeping."""
    settings = ctx.settings

    return Worker(
        name,
        engine=ctx.engine,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        consumers=consumers,
        jobs=[*jobs, housekeeping_job(ctx)],
        relay_batch_size=settings.outbox_batch_size,
        relay_poll_interval=settings.outbox_poll_interval.total_seconds(),
        topic_prefix=settings.kafka_topic_prefix,
        instance_id=settings.worker_instance_id or socket.gethostname(),
    )


def run_until_signalled(worker: Worker) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run()

    asyncio.run(main())
