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
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from pydantic import ValidationError

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.inbox import first_delivery

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[UnitOfWork, Any, EventEnvelope], Awaitable[None]]


def create_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        middlewares=(KafkaTelemetryMiddleware(),),
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
    def __init__(self, group: str, unit_of_work: Callable[[], UnitOfWork], *, max_attempts: int = 3, retry_delay: float = 0.2) -> None:
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
                ack_policy=AckPolicy.NACK_ON_ERROR,
                auto_offset_reset="earliest",
                decoder=_raw_body,
            )

            subscriber(self._handler_for(topic))

    def _handler_for(self, topic: str) -> Callable[[KafkaMessage], Awaitable[None]]:
        # The handler's only parameter is the message: FastStream then validates no body (so every
        # byte string, even an unreadable one, reaches `dispatch` and from there the dead-letter
        # topic), and injects nothing into parameters we need — hence the closure for the topic.
        async def on_message(message: KafkaMessage) -> None:
            await self.dispatch(message.body, topic=topic, message=message)

        return on_message

    async def dispatch(self, body: bytes, *, topic: str, message: Any = None) -> None:
        try:
            envelope = EventEnvelope.model_validate_json(body)
        except ValidationError as exc:
            await self._dead_letter(body, topic, f"unreadable envelope: {exc.error_count()} errors", message)
            return
        handler = self._handlers.get((envelope.event_type, envelope.version))
        if handler is None:
            return  # another consumer's event on a shared topic
        try:
            event = envelope.open()
        except (ValidationError, KeyError) as exc:
            await self._dead_letter(body, topic, f"invalid {envelope.event_type} payload: {exc}", message)
            return
        last_error: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._apply(handler, event, envelope)
                return
            except Exception as exc:  # a handler bug or a passing database fault
                last_error = exc
                log.warning("%s: %s %s failed (attempt %d/%d): %r", self.group, envelope.event_type, envelope.event_id, attempt, self._max_attempts, exc)
                await asyncio.sleep(self._retry_delay * attempt)
        await self._dead_letter(body, topic, f"{type(last_error).__name__}: {last_error}", message)

    async def _apply(self, handler: Handler, event: Event, envelope: EventEnvelope) -> None:
        async with self._unit_of_work() as uow:
            if not await first_delivery(uow.session, consumer=self.group, event_id=envelope.event_id, event_type=envelope.event_type):
                self.duplicates_dropped += 1
                return
            await handler(uow, event, envelope)
            await uow.commit()
        self.applied += 1

    async def _dead_letter(self, body: bytes, topic: str, reason: str, message: Any) -> None:
        if self._dead_letters is None:
            raise RuntimeError(f"{self.group}: cannot dead-letter, not attached: {reason}")
        headers = {"dlq-reason": reason[:500], "dlq-original-topic": topic, "dlq-group": self.group}
        raw = getattr(message, "raw_message", None)
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
