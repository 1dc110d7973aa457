"""What a consumed message is to a consumer: an event to apply (with its handler), one that is
permanently unusable (an unreadable envelope, an unknown contract version of an event we handle,
an invalid payload: `dead_reason`), or another consumer's event on a shared topic (None)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.envelope import Event, EventEnvelope
from cet_shared.inbox import first_deliveries
from cet_shared.telemetry import consumed_event, consumed_events

Handler = Callable[[UnitOfWork, Any, EventEnvelope], Awaitable[None]]
TogetherHandler = Callable[[UnitOfWork, list[tuple[Any, EventEnvelope]]], Awaitable[None]]


@dataclass
class Inbound:
    body: bytes
    record: Any
    key: str | None
    handler: Handler | None = None
    envelope: EventEnvelope | None = None
    event: Event | None = None
    own_transaction: bool = False
    dead_reason: str | None = None  # permanent before any handler ran

    def parts(self) -> tuple[Handler, EventEnvelope, Event]:
        """Handler, envelope and event of a message open_message could read (no dead reason)."""
        assert self.handler is not None and self.envelope is not None and self.event is not None, self.dead_reason
        return self.handler, self.envelope, self.event


def open_message(handlers: dict[tuple[str, int], tuple[Handler, bool]], handled_types: set[str], body: bytes, record: Any) -> Inbound | None:
    raw_key = getattr(record, "key", None)
    key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else raw_key
    try:
        envelope = EventEnvelope.model_validate_json(body)
    except ValidationError as exc:
        return Inbound(body, record, key, dead_reason=f"unreadable envelope: {exc.error_count()} errors")
    key = key if key is not None else envelope.key
    registered = handlers.get((envelope.event_type, envelope.version))
    if registered is None:
        if envelope.event_type in handled_types:
            return Inbound(body, record, key, envelope=envelope, dead_reason=f"unknown contract version {envelope.event_type} v{envelope.version}")
        return None  # another consumer's event on a shared topic
    handler, own_transaction = registered
    try:
        event = envelope.open()
    except (ValidationError, KeyError) as exc:
        return Inbound(body, record, key, envelope=envelope, dead_reason=f"invalid {envelope.event_type} payload: {exc}")
    return Inbound(body, record, key, handler, envelope, event, own_transaction)


async def apply_new(uow: UnitOfWork, group: str, items: list[Inbound], together: dict[Handler, TogetherHandler]) -> int:
    """Inside the batch's transaction: record every event in the inbox with one statement and apply,
    in delivery order, those not applied before — a run of consecutive events whose handler takes
    them together in one call. Returns how many were applied."""
    opened = [(item, *item.parts()) for item in items]
    new = await first_deliveries(uow.session, consumer=group, events=[(envelope.event_id, envelope.event_type) for _, _, envelope, _ in opened])
    fresh = []
    for item, handler, envelope, event in opened:
        if envelope.event_id in new:
            new.discard(envelope.event_id)  # the same event twice in one batch applies once
            fresh.append((item, handler, envelope, event))
    for handler, run in itertools.groupby(fresh, key=lambda entry: entry[1]):
        events = list(run)
        if handler in together:
            with consumed_events(group, events[0][3].topic, [(envelope, item.record) for item, _, envelope, _ in events]):  # a span each
                await together[handler](uow, [(event, envelope) for _, _, envelope, event in events])
            continue
        for item, _, envelope, event in events:
            with consumed_event(group, event.topic, envelope, item.record):  # its span, even in a batch
                await handler(uow, event, envelope)
    return len(fresh)
