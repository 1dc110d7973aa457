"""Transactional outbox: events are rows written in the business transaction; a relay sends them.

Guarantees:
- nothing is lost: a row stays unpublished until Kafka acknowledged it (acks=all, idempotent
  producer); a relay killed between send and mark re-sends it, and consumers' inboxes drop the copy;
- per-key commit order: one relay at a time holds the leader lock (a PostgreSQL advisory lock), it
  reads rows in id order and sends them to the partition of their key in that order. Writers take
  their aggregate's row lock before `enqueue`, so for one key id order is commit order;
- several replicas are safe: the others wait for the lock and take over when the leader dies
  (PostgreSQL releases a session's advisory lock when its connection drops).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from cet_shared.db.tables import outbox
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.telemetry import outbox_headers

log = logging.getLogger(__name__)

# Arbitrary but fixed: the advisory-lock id that elects the relay leader in a service's database.
RELAY_LOCK_ID = 0x0CE7_0B0C


async def enqueue(session: AsyncSession, event: Event, *, key: str, producer: str) -> EventEnvelope:
    envelope = EventEnvelope.wrap(event, key=key, producer=producer)
    headers: dict[str, str] = {}
    propagate.inject(headers)  # W3C trace context of the request that caused the event
    await session.execute(
        insert(outbox).values(
            event_id=envelope.event_id,
            topic=event.topic,
            key=key,
            event_type=event.event_type,
            envelope=envelope.model_dump(mode="json"),
            headers=headers,
        )
    )
    return envelope


def create_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=15000,
    )


class OutboxRelay:
    """Publishes a service's outbox to Kafka. Run one per worker process; any number of workers."""

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.2,
        topic_prefix: str = "",
    ) -> None:
        self._engine = engine
        self._topic_prefix = topic_prefix
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._stopping = asyncio.Event()
        self.published = 0
        self.is_leader = False

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Until `stop()`: become leader, then publish batches; on any error, back off and retry.

        `stop()` interrupts even a send that waits on an unreachable broker: rows not yet marked
        stay in the outbox for the next leader.
        """
        while not self._stopping.is_set():
            leading = asyncio.create_task(self._lead())
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({leading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not leading.done():
                leading.cancel()
            stopping.cancel()
            try:
                await leading
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
                await self._sleep(1.0)
            finally:
                self.is_leader = False

    async def _lead(self) -> None:
        async with self._engine.connect() as connection:
            try:
                while not self._stopping.is_set():
                    got = (await connection.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID})).scalar()
                    await connection.commit()
                    if got:
                        break
                    await self._sleep(self._poll_interval * 5)
                else:
                    return
                self.is_leader = True
                log.info("outbox relay is the leader")
                while not self._stopping.is_set():
                    sent = await self.publish_batch(connection)
                    if sent < self._batch_size:
                        await self._sleep(self._poll_interval)
            finally:
                # Drop the connection rather than return it to the pool: closing it is what
                # releases the session-level advisory lock, whatever state we are leaving in.
                await connection.invalidate()

    async def publish_batch(self, connection: AsyncConnection) -> int:
        """Send the oldest unpublished rows, wait for Kafka's acks, then mark them. Returns the count."""
        rows = (
            await connection.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.envelope, outbox.c.headers)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self._batch_size)
            )
        ).all()
        await connection.commit()
        if not rows:
            return 0
        await self._send(rows)
        await connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([row.id for row in rows]))
            .values(published_at=datetime.now(timezone.utc), attempts=outbox.c.attempts + 1)
        )
        await connection.commit()
        self.published += len(rows)
        return len(rows)

    async def _send(self, rows: Sequence) -> None:
        # send() only queues; the idempotent producer keeps per-partition order with several
        # batches in flight, so we queue everything and then wait for every ack.
        deliveries = []
        for row in rows:
            headers = outbox_headers(row.topic, row.envelope, row.headers)  # a PRODUCER span's context, the event id
            deliveries.append(
                await self._producer.send(
                    self._topic_prefix + row.topic,
                    value=json.dumps(row.envelope, ensure_ascii=False).encode(),
                    key=row.key.encode(),
                    headers=headers,
                )
            )
        await asyncio.gather(*deliveries)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass
