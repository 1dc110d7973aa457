"""Inbox: a consumer applies each event once, because the event id is recorded in the same
transaction as the change it causes."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.db.tables import inbox


async def first_delivery(session: AsyncSession, *, consumer: str, event_id: uuid.UUID, event_type: str) -> bool:
    """Record the event for this consumer; False when it was already applied (a redelivery)."""
    result = await session.execute(
        insert(inbox).values(consumer=consumer, event_id=event_id, event_type=event_type).on_conflict_do_nothing().returning(inbox.c.event_id)
    )
    return result.first() is not None


async def first_deliveries(session: AsyncSession, *, consumer: str, events: list[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    """Record a batch of events for this consumer; returns the ids not applied before."""
    if not events:
        return set()
    result = await session.execute(
        insert(inbox)
        .values([{"consumer": consumer, "event_id": event_id, "event_type": event_type} for event_id, event_type in events])
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return set(result.scalars())
