"""Kafka consumers done one way for every service.

`EventConsumer` subscribes a consumer group to the topics of the events it handles, with
at-least-once delivery (offsets are committed only after the handler's transaction committed) and
effectively-once effect (the inbox). What happens when an event cannot be applied depends on why
(`cet_shared.resilience`):

- a **transient** failure (the database restarting or unreachable, a timeout, a deadlock or
  serialization victim, a Kafka broker away) is waited out: the consumer backs off with jitter and
  seeks the batch's partitions back to the first event not applied, so nothing is committed past
  it and it is seen again — for as long as the fault lasts, never a dead letter;
- a **permanent** failure (an unreadable payload, an unknown contract version of an event we
  handle, a handler error that a few quick retries with the database answering did not change)
  sends the event to `dlq.<group>` with the reason and its original headers, stores it as dead in
  the consumer's database and parks its key: the key's later events wait behind it (the policy and
  why: `cet_shared.dead_letters`). `<service>-admin dlq` lists, replays and discards them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import text

from cet_shared import dead_letters, inbound
from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.envelope import Event, EventEnvelope, event_class
from cet_shared.inbox import first_deliveries
from cet_shared.metrics import broker_middlewares
from cet_shared.resilience import Backoff, is_transient

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = inbound.Handler


def create_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        middlewares=broker_middlewares(),
        # Per-message "Received/Processed" lines at DEBUG: at peak rates they cost more than the work.
        log_level=logging.DEBUG,
        acks="all",
        enable_idempotence=True,
    )


def dead_letter_topic(group: str) -> str:
    return f"dlq.{group}"


async def _raw_body(message: Any) -> bytes:
    # We parse envelopes ourselves so that an unreadable message reaches the dead-letter path
    # instead of failing inside the framework's decoder forever.
    body: bytes = message.body
    return body


class TransientFailure(Exception):
    """The batch could not be applied now; it must be seen again (nothing was committed past it)."""


class EventConsumer:
    def __init__(
        self,
        group: str,
        unit_of_work: Callable[[], UnitOfWork],
        *,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        max_batch: int = 200,
        backoff_cap: float = 5.0,
    ) -> None:
        self.max_batch, self.group, self.unit_of_work = max_batch, group, unit_of_work
        self._max_attempts, self._retry_delay = max_attempts, retry_delay
        self._handlers: dict[tuple[str, int], tuple[Handler, bool]] = {}
        self._together: dict[Handler, inbound.TogetherHandler] = {}
        self._handled_types: set[str] = set()
        self._topics: set[str] = set()
        self._dead_letters: AIOKafkaProducer | None = None
        self._topic_prefix = ""
        self._backoff = Backoff(first=0.2, cap=backoff_cap)
        # Figures for drills and benchmarks.
        self.applied = self.duplicates_dropped = self.dead_lettered = self.parked = self.transient_failures = 0

    def handles(self, event_cls: type[E], *, own_transaction: bool = False) -> Callable[[Callable[[UnitOfWork, E, EventEnvelope], Awaitable[None]]], Any]:
        """`own_transaction`: the event commits alone, never inside a batch's transaction (events
        that move seats: a batch would hold an offering's row lock across other events' locks)."""

        def register(fn: Callable[[UnitOfWork, E, EventEnvelope], Awaitable[None]]) -> Any:
            self._handlers[(event_cls.event_type, event_cls.version)] = (fn, own_transaction)
            self._handled_types.add(event_cls.event_type)
            self._topics.add(event_cls.topic)
            return fn

        return register

    def handles_together(self, event_cls: type[E]) -> Callable[[Callable[[UnitOfWork, list[tuple[E, EventEnvelope]]], Awaitable[None]]], Any]:
        """A handler of a batch's run of consecutive new events of this type, in delivery order: one
        statement for the run (a projection's insert); each keeps its inbox row and CONSUMER span."""

        def register(fn: Callable[[UnitOfWork, list[tuple[E, EventEnvelope]]], Awaitable[None]]) -> Any:
            async def one(uow: UnitOfWork, event: E, envelope: EventEnvelope) -> None:  # a replay, or alone
                await fn(uow, [(event, envelope)])

            self._together[self.handles(event_cls)(one)] = fn
            return fn

        return register

    @property
    def topics(self) -> set[str]:
        return set(self._topics)

    @property
    def handled_events(self) -> set[type[Event]]:
        """The contracts this consumer applies (its service's AsyncAPI `receive` operations)."""
        return {cls for key in self._handlers if (cls := event_class(*key)) is not None}

    def attach(self, broker: KafkaBroker, *, dead_letters: AIOKafkaProducer, topic_prefix: str = "", instance_id: str | None = None) -> None:
        """Subscribe to the topics of the handled events; `dead_letters` is a started producer.

        `topic_prefix` isolates test runs that share one Kafka broker. `instance_id` (stable across
        restarts of this worker process) makes it a static member of the group: restarted, it gets
        its partitions back at once instead of after a rebalance.
        """
        self._dead_letters = dead_letters
        self._topic_prefix = topic_prefix
        for topic in sorted(self._topics):
            subscriber = broker.subscriber(
                topic_prefix + topic,
                group_id=topic_prefix + self.group,
                group_instance_id=f"{instance_id}.{self.group}.{topic}" if instance_id else None,
                # Batches: one transaction and one offset commit per batch instead of per message
                # (FastStream commits synchronously on every ack, which caps a consumer at a few
                # hundred events a second). A nack seeks every partition back to the batch start.
                batch=True,
                max_records=self.max_batch,
                batch_timeout_ms=20,
                ack_policy=AckPolicy.NACK_ON_ERROR,
                auto_offset_reset="earliest",
                decoder=_raw_body,
            )
            subscriber(self._handler_for(topic))

    def _handler_for(self, topic: str) -> Callable[[KafkaMessage], Awaitable[None]]:
        # The handler's only parameter is the message: FastStream then validates no body (so every
        # byte string, even an unreadable one, reaches us and from there the dead-letter topic),
        # and injects nothing into parameters we need — hence the closure for the topic.
        async def on_batch(message: KafkaMessage) -> None:
            try:
                await self.dispatch_batch([(record.value, record) for record in message.raw_message], topic=topic)
            except TransientFailure:
                await message.nack()  # seek back: the same events come again after the back-off

        return on_batch

    async def dispatch(self, body: bytes, *, topic: str, record: Any = None) -> None:
        """Handle one message (tests call this directly)."""
        await self.dispatch_batch([(body, record)], topic=topic)

    async def dispatch_batch(self, messages: list[tuple[bytes, Any]], *, topic: str) -> None:
        """Apply a batch in order: in one transaction when all goes well, else one by one.
        Raises TransientFailure (after the back-off) when it must be seen again."""
        items = [item for item in (inbound.open_message(self._handlers, self._handled_types, body, record) for body, record in messages) if item is not None]
        if not items:
            return
        if len(items) > 1 and all(item.handler and not item.own_transaction for item in items):
            try:
                await self._apply(items, topic)
                self._backoff.reset()
                return
            except Exception as exc:  # noqa: BLE001 - any failure of the batch: retried one by one
                if is_transient(exc):
                    await self._transient(exc)
                log.warning("%s: a batch of %d failed (%r); applying one by one", self.group, len(items), exc)
        for item in items:
            await self._apply_alone(item, topic)
        self._backoff.reset()

    async def _apply_alone(self, item: inbound.Inbound, topic: str) -> None:
        if item.dead_reason is not None:
            await self._dead_letter(item, topic, item.dead_reason)
            return
        last_error: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._apply([item], topic)
                return
            except Exception as exc:  # noqa: BLE001 - a handler's failure, classified below (transient or dead letter)
                if is_transient(exc) or not await self._database_answers():
                    await self._transient(exc)
                last_error = exc
                envelope = item.parts()[1]
                log.warning("%s: %s %s failed (attempt %d/%d): %r", self.group, envelope.event_type, envelope.event_id, attempt, self._max_attempts, exc)
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_delay * attempt)
        await self._dead_letter(item, topic, f"{type(last_error).__name__}: {last_error}")

    async def _apply(self, items: list[inbound.Inbound], topic: str) -> None:
        """One transaction: each event's inbox row and its effect, or its place behind a dead one."""
        async with self.unit_of_work() as uow:
            session = uow.session
            held = await dead_letters.held_keys(session, self.group, {item.key for item in items if item.key is not None})
            to_apply: list[inbound.Inbound] = []
            parked = 0
            for item in items:
                if item.key in held and await self._still_held(uow, item.key):
                    await dead_letters.keep(session, self._held(item, topic, reason=None), "parked")
                    parked += 1
                else:
                    to_apply.append(item)
            applied = await inbound.apply_new(uow, self.group, to_apply, self._together)
            await uow.commit()
        self.applied += applied
        self.duplicates_dropped += len(to_apply) - applied
        self.parked += parked

    async def _still_held(self, uow: UnitOfWork, key: str) -> bool:
        # Serialised with a replay of this key: either it already emptied the key (apply now), or
        # it will see this event parked behind the dead one once we commit.
        await dead_letters.lock_key(uow.session, self.group, key)
        return bool(await dead_letters.held_keys(uow.session, self.group, {key}))

    async def apply_replayed(self, uow: UnitOfWork, body: bytes) -> bool:
        """A held event, applied inside `uow` through the inbox (`dlq replay`). False: it was
        applied before (a duplicate). Raises what the handler raises, or ValueError if unreadable."""
        item = inbound.open_message(self._handlers, self._handled_types, body, None)
        if item is None or item.dead_reason is not None:
            raise ValueError(item.dead_reason if item else "not an event this consumer handles")
        handler, envelope, event = item.parts()
        new = await first_deliveries(uow.session, consumer=self.group, events=[(envelope.event_id, envelope.event_type)])
        if not new:
            return False
        await handler(uow, event, envelope)
        return True

    async def _database_answers(self) -> bool:
        """A handler error while the database does not answer is the database's, not the event's."""
        try:
            async with self.unit_of_work() as uow:
                await uow.session.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - the probe's answer is yes or no
            return False

    async def _transient(self, exc: Exception) -> None:
        self.transient_failures += 1
        delay = self._backoff.next_delay()
        log.warning("%s: transient failure (%s: %s); seeing the events again in %.1fs", self.group, type(exc).__name__, str(exc)[:200], delay)
        await asyncio.sleep(delay)
        raise TransientFailure(str(exc)) from exc

    def _held(self, item: inbound.Inbound, topic: str, *, reason: str | None) -> dead_letters.Held:
        envelope = item.envelope
        return dead_letters.held_from_record(
            self.group,
            topic,
            item.body,
            item.record,
            key=item.key,
            reason=reason,
            event_id=envelope.event_id if envelope else None,
            event_type=envelope.event_type if envelope else None,
        )

    async def _dead_letter(self, item: inbound.Inbound, topic: str, reason: str) -> None:
        """To `dlq.<group>` (reason and original headers), then stored as dead, its key parked."""
        if self._dead_letters is None:
            raise RuntimeError(f"{self.group}: cannot dead-letter, not attached: {reason}")
        held = self._held(item, topic, reason=reason[:1000])
        try:
            async with self.unit_of_work() as uow:
                if await dead_letters.is_kept(uow.session, held):
                    return  # dead-lettered before a seek brought it back: once is enough
            await dead_letters.publish(self._dead_letters, self._topic_prefix + dead_letter_topic(self.group), held)
            async with self.unit_of_work() as uow:
                await dead_letters.keep(uow.session, held, "dead")
                await uow.commit()
        except Exception as exc:
            if is_transient(exc):
                await self._transient(exc)
            raise
        self.dead_lettered += 1
        log.error("%s: message from %s sent to %s, key %s parked: %s", self.group, topic, dead_letter_topic(self.group), item.key, reason)
