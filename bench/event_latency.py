"""Event latency: outbox commit → consumer effect, through the real relay and the real Kafka.

    uv run python bench/event_latency.py [--rate 1000] [--seconds 10]

Writes events at a steady rate, each in its own transaction (as requests do), while the outbox
relay publishes them and an EventConsumer applies them (inbox + a row per effect). Prints
p50/p99/max latency from commit to effect, events lost (must be 0) and applied twice (must be 0).
Target (architecture.md): p99 under 1 s at the seat-grab load. Needs `make infra-up` (reads .local/env).

`EffectWatcher` measures the same latency in the running suite, during a grab (bench/peak.py):
the outbox rows enrolment commits, published by enrolment-worker's relay through Kafka and
applied by payment-worker's consumer (its `enrolments` row: what the candidate's order is made
of). It polls that table every `interval` seconds; an effect's latency is when it was first seen
minus the event's `occurred_at` (written in the hold's own transaction), so the figure is high by
up to one interval. bench/event_pipeline.py uses it too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from cet_shared.db import UnitOfWork, create_engine, create_session_factory
from cet_shared.db.tables import common_metadata
from cet_shared.events.contracts import SubjectPaid
from cet_shared.messaging import EventConsumer, create_broker
from cet_shared.outbox import OutboxRelay, create_producer
from cet_shared.testing import throwaway_database, unique_topic_prefix


def load_env() -> None:
    env = Path(__file__).resolve().parents[1] / ".local" / "env"
    for line in env.read_text().splitlines() if env.exists() else []:
        if line.startswith("export "):
            name, _, value = line[7:].partition("=")
            os.environ.setdefault(name, value)


async def main(rate: int, seconds: float) -> None:
    async with throwaway_database("bench_events") as url:
        engine = create_engine(url, pool_size=20)
        async with engine.begin() as connection:
            await connection.run_sync(common_metadata.create_all)
            await connection.execute(text("CREATE TABLE effects (event_id uuid PRIMARY KEY, applied_at double precision)"))
        sessions = create_session_factory(engine)
        prefix = unique_topic_prefix()
        committed: dict[str, float] = {}
        latencies: list[float] = []

        consumer = EventConsumer("bench", lambda: UnitOfWork(sessions, producer="bench"))

        @consumer.handles(SubjectPaid)
        async def apply(uow, event, envelope):
            await uow.session.execute(text("INSERT INTO effects VALUES (:id, :t)"), {"id": event.enrolment_id, "t": time.time()})

        bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        producer = create_producer(bootstrap, "bench-relay")
        broker = create_broker(bootstrap, "bench")
        await producer.start()
        consumer.attach(broker, dead_letters=producer, topic_prefix=prefix)
        await broker.start()
        relay = OutboxRelay(engine, producer, poll_interval=0.02, topic_prefix=prefix)
        relay_task = asyncio.create_task(relay.run())

        # Warm-up: the consumer group must own its partitions before we start the clock.
        async with UnitOfWork(sessions, producer="bench") as uow:
            await uow.publish(SubjectPaid(enrolment_id=uuid.uuid4(), registration_id=uuid.uuid4(), order_id=uuid.uuid4()), key="warm-up")
            await uow.commit()
        while consumer.applied < 1:
            await asyncio.sleep(0.05)

        async def write_one() -> None:
            event = SubjectPaid(enrolment_id=uuid.uuid4(), registration_id=uuid.uuid4(), order_id=uuid.uuid4())
            async with UnitOfWork(sessions, producer="bench") as uow:
                await uow.publish(event, key=str(event.registration_id))
                await uow.commit()
            committed[str(event.enrolment_id)] = time.time()

        started = time.perf_counter()
        writers = []
        total = int(rate * seconds)
        for n in range(total):
            writers.append(asyncio.create_task(write_one()))
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        await asyncio.gather(*writers)
        write_seconds = time.perf_counter() - started
        deadline = time.time() + 30
        while consumer.applied < total + 1 and time.time() < deadline:
            await asyncio.sleep(0.1)

        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT event_id::text, applied_at FROM effects"))).all()
        for event_id, applied_at in rows:
            if event_id in committed:
                latencies.append(applied_at - committed[event_id])
        relay.stop()
        await relay_task
        await broker.stop()
        await producer.stop()
        await engine.dispose()

    latencies.sort()
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"events written          {total} in {write_seconds:.1f}s ({total / write_seconds:.0f}/s asked {rate}/s)")
    print(f"events applied          {len(latencies)}")
    print(f"lost                    {total - len(latencies)}")
    print(f"applied twice           {consumer.duplicates_dropped} dropped by the inbox, {len(rows) - len({r[0] for r in rows})} effects doubled")
    if latencies:
        print(
            f"commit → effect latency p50 {quantile(0.5):.0f} ms   p99 {quantile(0.99):.0f} ms   max {latencies[-1] * 1000:.0f} ms   mean {statistics.mean(latencies) * 1000:.0f} ms"
        )


class EffectWatcher:
    """Polls payment's projection of each hold (its `enrolments` row) for the registrations given.

    When stopped, reads each event's `occurred_at` (written in the hold's own transaction) from
    enrolment's outbox: an effect's latency is when it was first seen minus that instant.
    """

    def __init__(self, payment_url: str, enrolment_url: str, interval: float = 0.05) -> None:
        self.url = payment_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.enrolment_url = enrolment_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.interval = interval
        self.seen: dict[str, float] = {}  # enrolment id -> when first seen (epoch s)
        self.latencies: dict[str, float] = {}  # enrolment id -> latency (s), once stopped
        self._stop = asyncio.Event()

    async def run(self, registration_ids: list[uuid.UUID]) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            statement = await connection.prepare("SELECT enrolment_id::text FROM enrolments WHERE registration_id = ANY($1::uuid[])")
            while True:
                now = time.time()
                for (enrolment_id,) in await statement.fetch(registration_ids):
                    self.seen.setdefault(enrolment_id, now)
                if self._stop.is_set():
                    break
                try:
                    await asyncio.wait_for(self._stop.wait(), self.interval)
                except TimeoutError:
                    pass
        finally:
            await connection.close()
        enrolment = await asyncpg.connect(self.enrolment_url)
        try:
            rows = await enrolment.fetch(
                "SELECT envelope->'payload'->>'enrolment_id', extract(epoch FROM (envelope->>'occurred_at')::timestamptz)::float8"
                " FROM outbox WHERE event_type = 'SubjectEnrolled' AND key = ANY($1::text[])",
                [str(r) for r in registration_ids],
            )
        finally:
            await enrolment.close()
        occurred = {enrolment_id: at for enrolment_id, at in rows}
        self.latencies = {k: seen - occurred[k] for k, seen in self.seen.items() if k in occurred}

    def stop(self) -> None:
        self._stop.set()

    def quantiles(self, ids: set[str]) -> dict[str, float]:
        latencies = sorted(v for k, v in self.latencies.items() if k in ids)
        if not latencies:
            return {"seen": 0}
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        return {"seen": len(latencies), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": latencies[-1] * 1000}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="events per second to write")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    load_env()
    if "PG_ADMIN_URL" not in os.environ:
        sys.exit("start the infrastructure first: make infra-up")
    asyncio.run(main(args.rate, args.seconds))
