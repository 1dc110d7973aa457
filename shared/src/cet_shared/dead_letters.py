"""Dead letters and parked keys, in the consumer's own database.

Per-key order after a dead letter — the policy: **park the key**. When a consumer cannot apply an
event (an unreadable payload, an unknown contract version, a handler error a retry cannot change),
the event is stored here as `dead` (and copied to the Kafka topic `dlq.<group>` with the reason and
its original headers), and every later event of the same key that reaches this consumer is stored
as `parked` instead of being applied, in arrival order. The partition goes on for every other key.
`<service>-admin dlq replay` applies the dead event (after the fix) and then the parked ones, in
order, through the inbox; `dlq discard` drops the dead one (audited) and applies the parked ones.

Why not stop the partition: one bad event would halt every candidate whose key shares its
partition, for as long as a person needs to look. Why not skip it: the key's later events (a
payment after a subject, a release after a bind) would be applied without it, out of order.

The live consumer and a replay of the same key are serialised by a transaction-scoped advisory lock
on (consumer, key): a replay that empties a key never races with an event being parked behind it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.db.tables import dead_letters

HELD = ("dead", "parked")


@dataclass(frozen=True)
class Held:
    """One event to keep: where it came from and why."""

    consumer: str
    topic: str
    body: bytes
    key: str | None
    event_id: uuid.UUID | None = None
    event_type: str | None = None
    partition: int | None = None
    offset: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None


def held_from_record(
    consumer: str,
    topic: str,
    body: bytes,
    record: Any,
    *,
    key: str | None,
    reason: str | None = None,
    event_id: uuid.UUID | None = None,
    event_type: str | None = None,
) -> Held:
    headers = tuple(
        (name, value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)) for name, value in (getattr(record, "headers", None) or ())
    )
    return Held(
        consumer=consumer,
        topic=topic,
        body=body,
        key=key,
        event_id=event_id,
        event_type=event_type,
        partition=getattr(record, "partition", None),
        offset=getattr(record, "offset", None),
        headers=headers,
        reason=reason,
    )


async def publish(producer: Any, topic: str, held: Held) -> None:
    """The Kafka copy on `dlq.<group>`: the original bytes, key and headers, and why."""
    headers = [(name, value.encode()) for name, value in held.headers if not name.startswith("dlq-")]
    extra = {"dlq-reason": (held.reason or "")[:500], "dlq-original-topic": held.topic, "dlq-group": held.consumer}
    if held.offset is not None:
        extra.update({"dlq-original-partition": str(held.partition), "dlq-original-offset": str(held.offset)})
    await producer.send_and_wait(
        topic,
        value=held.body,
        key=held.key.encode() if held.key is not None else None,
        headers=headers + [(name, value.encode()) for name, value in extra.items()],
    )


async def lock_key(session: AsyncSession, consumer: str, key: str) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"), {"k": f"{consumer}\x1f{key}"})


async def held_keys(session: AsyncSession, consumer: str, keys: set[str]) -> set[str]:
    """Which of these keys have a dead or parked event for this consumer."""
    if not keys:
        return set()
    rows = await session.execute(
        select(dead_letters.c.key).distinct().where(dead_letters.c.consumer == consumer, dead_letters.c.key.in_(sorted(keys)), dead_letters.c.state.in_(HELD))
    )
    return set(rows.scalars())


async def keep(session: AsyncSession, held: Held, state: str) -> None:
    """Store a dead or parked event; a redelivered record (same topic, partition, offset) is stored once."""
    await session.execute(
        pg_insert(dead_letters)
        .values(
            consumer=held.consumer,
            state=state,
            key=held.key,
            event_id=held.event_id,
            event_type=held.event_type,
            topic=held.topic,
            partition=held.partition,
            offset=held.offset,
            body=held.body,
            headers=[list(h) for h in held.headers],
            reason=held.reason,
        )
        .on_conflict_do_nothing(constraint="dead_letters_once_per_record")
    )


async def is_kept(session: AsyncSession, held: Held) -> bool:
    """This very record (topic, partition, offset) is stored already: seen again after a seek."""
    if held.offset is None:
        return False
    found = await session.execute(
        select(dead_letters.c.id).where(
            dead_letters.c.consumer == held.consumer,
            dead_letters.c.topic == held.topic,
            dead_letters.c.partition == held.partition,
            dead_letters.c.offset == held.offset,
        )
    )
    return found.first() is not None


async def next_held(session: AsyncSession, consumer: str, key: str | None) -> Any:
    """The oldest dead or parked event of a key (the one that must go first), locked."""
    condition = dead_letters.c.key.is_(None) if key is None else dead_letters.c.key == key
    return (
        (
            await session.execute(
                select(dead_letters)
                .where(dead_letters.c.consumer == consumer, condition, dead_letters.c.state.in_(HELD))
                .order_by(dead_letters.c.id)
                .limit(1)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )


async def resolve(session: AsyncSession, row_id: int, state: str, *, by: str, resolution: str) -> None:
    await session.execute(
        update(dead_letters).where(dead_letters.c.id == row_id).values(state=state, resolved_at=datetime.now(UTC), resolved_by=by, resolution=resolution[:1000])
    )


async def mark_dead(session: AsyncSession, row_id: int, reason: str) -> None:
    await session.execute(update(dead_letters).where(dead_letters.c.id == row_id).values(state="dead", reason=reason[:1000]))


async def get(session: AsyncSession, row_id: int) -> Any:
    return (await session.execute(select(dead_letters).where(dead_letters.c.id == row_id))).mappings().first()


async def listing(session: AsyncSession) -> list[dict[str, Any]]:
    """Every dead event with how many events of its key are parked behind it."""
    rows = (await session.execute(select(dead_letters).where(dead_letters.c.state.in_(HELD)).order_by(dead_letters.c.id))).mappings().all()
    out: list[dict[str, Any]] = []
    for row in rows:
        if row["state"] == "dead":
            out.append({**_summary(row), "parked_behind": 0})
        elif out:
            for entry in reversed(out):
                if entry["consumer"] == row["consumer"] and entry["key"] == row["key"]:
                    entry["parked_behind"] += 1
                    break
    return out


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "consumer": row["consumer"],
        "state": row["state"],
        "key": row["key"],
        "event_type": row["event_type"],
        "event_id": str(row["event_id"]) if row["event_id"] else None,
        "topic": row["topic"],
        "partition": row["partition"],
        "offset": row["offset"],
        "reason": row["reason"],
        "created_at": row["created_at"].isoformat() if row["created_at"] else None,
    }


def detail(row: Any) -> dict[str, Any]:
    body = row["body"]
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = body.decode("utf-8", "replace")
    return {
        **_summary(row),
        "headers": row["headers"],
        "body": payload,
        "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
        "resolved_by": row["resolved_by"],
        "resolution": row["resolution"],
    }


async def dead_keys(session: AsyncSession, consumer: str) -> list[str | None]:
    rows = await session.execute(
        select(dead_letters.c.key, func.min(dead_letters.c.id))
        .where(dead_letters.c.consumer == consumer, dead_letters.c.state == "dead")
        .group_by(dead_letters.c.key)
        .order_by(func.min(dead_letters.c.id))
    )
    return [row[0] for row in rows]
