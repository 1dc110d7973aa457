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
        insert(inbox)
        .values(consumer=consumer, event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return result.first() is not None
