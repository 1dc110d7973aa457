"""Kafka consumers done one way for every service.

`EventConsumer` subscribes a consumer group to the topics of the events it handles, with
at-least-once delivery (offsets are committed only after the handler's transaction committed;
errors nack and the message is seen again) and effectively-once effect (the inbox). A message
that keeps failing, or cannot even be read, goes to the group's dead-letter topic
`dlq.<group>` with the reason in its headers, and the consumer moves on.
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
from pydantic import ValidationError

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.inbox import first_deliveries
from cet_shared.metrics import broker_middlewares
from cet_shared.telemetry import consumed_event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[UnitOfWork, Any, EventEnvelope], Awaitable[None]]


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
    return message.body


class EventConsumer:
    def __init__(
        self,
        group: str,
        unit_of_work: Callable[[], UnitOfWork],
        *,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        max_batch: int = 200,
    ) -> None:
        self.max_batch = max_batch
        self.group = group
        self._unit_of_work = unit_of_work
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._handlers: dict[tuple[str, int], Handler] = {}
        self._topics: set[str] = set()
        self._dead_letters: AIOKafkaProducer | None = None
        self._topic_prefix = ""
        # Figures for drills and benchmarks.
        self.applied = 0
        self.duplicates_dropped = 0
        self.dead_lettered = 0

    def handles(self, event_cls: type[E]) -> Callable[[Callable[[UnitOfWork, E, EventEnvelope], Awaitable[None]]], Any]:
        def register(fn: Callable[[UnitOfWork, E, EventEnvelope], Awaitable[None]]) -> Any:
            self._handlers[(event_cls.event_type, event_cls.version)] = fn
            self._topics.add(event_cls.topic)
            return fn

        return register

    @property
    def topics(self) -> set[str]:
        return set(self._topics)

    def attach(self, broker: KafkaBroker, *, dead_letters: AIOKafkaProducer, topic_prefix: str = "") -> None:
        """Subscribe to the topics of the handled events; `dead_letters` is a started producer.

        `topic_prefix` isolates test runs that share one Kafka broker.
        """
        self._dead_letters = dead_letters
        self._topic_prefix = topic_prefix
        for topic in sorted(self._topics):
            subscriber = broker.subscriber(
                topic_prefix + topic,
                group_id=topic_prefix + self.group,
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
            await self.dispatch_batch([(record.value, record) for record in message.raw_message], topic=topic)

        return on_batch

    async def dispatch(self, body: bytes, *, topic: str, record: Any = None) -> None:
        """Handle one message (tests call this directly)."""
        await self.dispatch_batch([(body, record)], topic=topic)

    async def dispatch_batch(self, messages: list[tuple[bytes, Any]], *, topic: str) -> None:
        """Apply a batch in order: in one transaction when all goes well, else one by one."""
        work: list[tuple[Handler, Event, EventEnvelope, bytes, Any]] = []
        for body, record in messages:
            try:
                envelope = EventEnvelope.model_validate_json(body)
            except ValidationError as exc:
                await self._dead_letter(body, topic, f"unreadable envelope: {exc.error_count()} errors", record)
                continue
            handler = self._handlers.get((envelope.event_type, envelope.version))
            if handler is None:
                continue  # another consumer's event on a shared topic
            try:
                event = envelope.open()
            except (ValidationError, KeyError) as exc:
                await self._dead_letter(body, topic, f"invalid {envelope.event_type} payload: {exc}", record)
                continue
            work.append((handler, event, envelope, body, record))
        if not work:
            return
        if len(work) > 1:
            try:
                applied, duplicates = await self._apply(work)
                self.applied += applied
                self.duplicates_dropped += duplicates
                return
            except Exception as exc:  # find the culprit one message at a time
                log.warning("%s: a batch of %d failed (%r); applying one by one", self.group, len(work), exc)
        for item in work:
            await self._apply_with_retries(item, topic)

    async def _apply_with_retries(self, item: tuple[Handler, Event, EventEnvelope, bytes, Any], topic: str) -> None:
        _, _, envelope, body, record = item
        last_error: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                applied, duplicates = await self._apply([item])
                self.applied += applied
                self.duplicates_dropped += duplicates
                return
            except Exception as exc:  # a handler bug or a passing database fault
                last_error = exc
                log.warning("%s: %s %s failed (attempt %d/%d): %r", self.group, envelope.event_type, envelope.event_id, attempt, self._max_attempts, exc)
                await asyncio.sleep(self._retry_delay * attempt)
        await self._dead_letter(body, topic, f"{type(last_error).__name__}: {last_error}", record)

    async def _apply(self, items: list[tuple[Handler, Event, EventEnvelope, bytes, Any]]) -> tuple[int, int]:
        """One transaction: each event's inbox row and its effect. Returns (applied, duplicates)."""
        applied = 0
        async with self._unit_of_work() as uow:
            # One statement records the whole batch in the inbox; what comes back is new.
            new = await first_deliveries(uow.session, consumer=self.group, events=[(envelope.event_id, envelope.event_type) for _, _, envelope, _, _ in items])
            for handler, event, envelope, _, record in items:
                if envelope.event_id in new:
                    new.discard(envelope.event_id)  # the same event twice in one batch applies once
                    with consumed_event(self.group, event.topic, envelope, record):  # its span, even in a batch
                        await handler(uow, event, envelope)
                    applied += 1
            await uow.commit()
        return applied, len(items) - applied

    async def _dead_letter(self, body: bytes, topic: str, reason: str, raw: Any) -> None:
        if self._dead_letters is None:
            raise RuntimeError(f"{self.group}: cannot dead-letter, not attached: {reason}")
        headers = {"dlq-reason": reason[:500], "dlq-original-topic": topic, "dlq-group": self.group}
        if raw is not None and hasattr(raw, "offset"):
            headers["dlq-original-partition"] = str(raw.partition)
            headers["dlq-original-offset"] = str(raw.offset)
        key = getattr(raw, "key", None) if raw is not None else None
        # If this send fails the exception nacks the message and we will try again.
        await self._dead_letters.send_and_wait(
            self._topic_prefix + dead_letter_topic(self.group),
            value=body,
            key=key,
            headers=[(name, value.encode()) for name, value in headers.items()],
        )
        self.dead_lettered += 1
        log.error("%s: message from %s sent to %s: %s", self.group, topic, dead_letter_topic(self.group), reason)
