"""Transactional outbox: events are rows written in the business transaction; a relay sends them.

Guarantees:
- nothing is lost: a row stays unpublished until Kafka acknowledged it (acks=all, idempotent
  producer); a relay killed between send and mark re-sends it, and consumers' inboxes drop the copy;
- one leader at a time, as a lease: the leader holds a session-level advisory lock on a connection
  whose server side ends the session after `lease_seconds` without a statement
  (`idle_session_timeout`; `idle_in_transaction_session_timeout` if it froze mid-transaction);
  the leader runs a statement at least every `lease_seconds / 3`, also while it waits for acks.
  A leader that is frozen (SIGSTOP, a paused VM) or cut off (a partition, no RST) therefore loses
  the lock within `lease_seconds` — PostgreSQL ends its session and releases the lock — and a
  standby, polling every `standby_poll` seconds, takes over. A leader that cannot renew (a
  statement fails or times out), or finds it has not renewed for most of a lease (it was
  frozen), stops publishing at once and becomes a standby; it finds the lock taken and stays one;
- per-key order at the consumers, also through a takeover: writers take their aggregate's row lock
  before `enqueue`, so for one key id order is commit order; every leader sends the unpublished
  rows in id order to the partition of their key, and marks rows published on its own leader
  session, so a row is marked only by a leader still holding the lock, after Kafka acknowledged
  it. A new leader therefore sends every row not yet marked, in id order: whatever an old leader
  sent late (frozen mid-send, acks delayed) is a copy of a row the new leader sends too, before
  any later row of that key. For each key the *first* copy of every event reaches the partition in
  order; later copies are duplicates, dropped by the consumers' inboxes (`duplicates_dropped`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate
from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from cet_shared.db.tables import outbox
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.telemetry import outbox_headers

log = logging.getLogger(__name__)

# Arbitrary but fixed: the advisory-lock id that elects the relay leader in a service's database.
RELAY_LOCK_ID = 0x0CE7_0B0C

# Constant statements (prepared once). The envelope is read as PostgreSQL prints it and sent as is,
# never parsed and dumped again here; rows are marked by exact id (an id between two of a batch may
# belong to a transaction that commits later: it is not published yet).
_UNPUBLISHED = text(
    "SELECT id, topic, key, event_id, event_type, envelope::text AS envelope, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT :limit"
).columns(headers=JSONB)
_MARK_PUBLISHED = text("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(CAST(:ids AS bigint[]))")


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
        request_timeout_ms=10000,  # a send to a dead link fails (and the relay steps down) within 15 s
    )


class LeadershipLost(Exception):
    """The lease could not be renewed, or may have run out: stop publishing now."""


class KafkaUnreachable(Exception):
    """Kafka did not acknowledge a batch in time: stop, let the rows wait in the outbox."""


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
        lease_seconds: float = 5.0,
        standby_poll: float = 1.0,
        send_timeout: float = 10.0,
    ) -> None:
        self._engine = engine
        self._topic_prefix = topic_prefix
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._lease_seconds = lease_seconds
        self._renew_every = lease_seconds / 3
        self._standby_poll = standby_poll
        self._send_timeout = send_timeout
        self._stopping = asyncio.Event()
        self._renewed_at = 0.0
        self.published = 0
        self.is_leader = False
        self.terms = 0  # times this relay became the leader
        self.step_downs = 0

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
            except Exception as exc:  # noqa: BLE001 - the relay outlives any failure of a round
                if self.is_leader:
                    self.step_downs += 1
                    log.warning("outbox relay stepped down: %s: %s", type(exc).__name__, str(exc)[:200])
                else:
                    log.warning("outbox relay cannot reach its database: %s: %s", type(exc).__name__, str(exc)[:200])
                self.is_leader = False
                await self._sleep(self._standby_poll)
            finally:
                self.is_leader = False

    async def _lead(self) -> None:
        async with self._engine.connect() as connection:
            try:
                await self._bound(connection)
                while not self._stopping.is_set():
                    got = (await connection.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID})).scalar()
                    await connection.commit()
                    if got:
                        break
                    await self._sleep(self._standby_poll)
                else:
                    return
                self._renewed_at = time.monotonic()
                self.is_leader = True
                self.terms += 1
                log.info("outbox relay is the leader")
                while not self._stopping.is_set():
                    sent = await self.publish_batch(connection)
                    if sent < self._batch_size:
                        await self._sleep(self._poll_interval)
            finally:
                # Drop the connection rather than return it to the pool: closing it is what
                # releases the session-level advisory lock, whatever state we are leaving in.
                await connection.invalidate()

    async def _bound(self, connection: AsyncConnection) -> None:
        """The lease's server side, and no relay statement waits long on anything."""
        lease_ms = int(self._lease_seconds * 1000)
        # Frozen between a statement and its commit, the session is idle *in transaction*: both idle
        # timeouts end the lease, whichever state the leader froze in.
        settings = (
            ("statement_timeout", lease_ms // 2),
            ("lock_timeout", lease_ms // 4),
            ("idle_session_timeout", lease_ms),
            ("idle_in_transaction_session_timeout", lease_ms),
        )
        for setting, value in settings:
            await connection.execute(text(f"SET {setting} = {int(value)}"))
        await connection.commit()

    async def _renewed(self, connection: AsyncConnection, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        """Run a leader statement; its success renews the lease. A failure or a lease that may have
        run out meanwhile (we were frozen) ends the leadership."""
        if time.monotonic() - self._renewed_at > self._lease_seconds * 0.8:
            raise LeadershipLost(f"no renewal for {time.monotonic() - self._renewed_at:.1f}s")
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(connection.execute(statement, parameters or {}), timeout=self._lease_seconds / 2)
            await asyncio.wait_for(connection.commit(), timeout=self._lease_seconds / 2)
        except TimeoutError as exc:
            raise LeadershipLost("a leader statement timed out") from exc
        self._renewed_at = started
        return result

    async def publish_batch(self, connection: AsyncConnection) -> int:
        """Send the oldest unpublished rows, wait for Kafka's acks, then mark them. Returns the count."""
        rows = (await self._renewed(connection, _UNPUBLISHED, {"limit": self._batch_size})).all()
        if not rows:
            return 0
        await self._send_holding_the_lease(connection, rows)
        await self._renewed(connection, _MARK_PUBLISHED, {"ids": [row.id for row in rows]})
        self.published += len(rows)
        return len(rows)

    async def _send_holding_the_lease(self, connection: AsyncConnection, rows: Sequence[Any]) -> None:
        """Wait for Kafka's acks, renewing the lease meanwhile; give up the moment it cannot."""
        if time.monotonic() - self._renewed_at > self._lease_seconds * 0.8:
            raise LeadershipLost("frozen between reading and sending")
        sending = asyncio.create_task(self._send(rows))
        started = time.monotonic()
        try:
            while True:
                done, _ = await asyncio.wait({sending}, timeout=self._renew_every)
                if done:
                    sending.result()
                    return
                if time.monotonic() - started > self._send_timeout:
                    # The producer would go on retrying into a dead link: the rows stay unpublished
                    # for whoever leads once Kafka answers (what it still delivers later are copies).
                    raise KafkaUnreachable(f"no acks for {len(rows)} events after {self._send_timeout:.0f}s")
                await self._renewed(connection, text("SELECT 1"))
        finally:
            if not sending.done():
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)

    async def _send(self, rows: Sequence[Any]) -> None:
        # send() only queues; the idempotent producer keeps per-partition order with several
        # batches in flight, so we queue everything and then wait for every ack.
        deliveries = []
        for row in rows:
            # a PRODUCER span's context, the event id
            headers = outbox_headers(row.topic, {"event_id": row.event_id, "event_type": row.event_type}, row.headers)
            deliveries.append(
                await self._producer.send(
                    self._topic_prefix + row.topic,
                    value=row.envelope.encode(),
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
