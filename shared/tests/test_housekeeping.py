"""Retention of the common tables (issue 10): only what may go goes, in small batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from cet_shared.db import create_session_factory
from cet_shared.housekeeping import Retention, prune


async def count(engine, table: str) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()


async def test_prune_keeps_unpublished_and_recent_rows_and_removes_the_rest_in_batches(engine):
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=30), now - timedelta(hours=1)
    async with engine.begin() as c:
        for _ in range(7):  # old and published: go
            await c.execute(
                text(
                    "INSERT INTO outbox (event_id, topic, key, event_type, envelope, created_at, published_at) "
                    "VALUES (gen_random_uuid(), 't', 'k', 'E', '{}', :at, :at)"
                ),
                {"at": old},
            )
        await c.execute(
            text("INSERT INTO outbox (event_id, topic, key, event_type, envelope, created_at) VALUES (gen_random_uuid(), 't', 'k', 'E', '{}', :at)"),
            {"at": old},
        )
        await c.execute(
            text("INSERT INTO outbox (event_id, topic, key, event_type, envelope, published_at) VALUES (gen_random_uuid(), 't', 'k', 'E', '{}', :at)"),
            {"at": recent},
        )
        for at in (old, old, old, recent):
            await c.execute(text("INSERT INTO inbox (consumer, event_id, event_type, processed_at) VALUES ('c', gen_random_uuid(), 'E', :at)"), {"at": at})
        for n, at in enumerate((old, recent)):
            await c.execute(text("INSERT INTO rate_limit_hits VALUES (:b, :at, 1)"), {"b": f"b{n}", "at": at})
            await c.execute(text("INSERT INTO captcha_nonces VALUES (:n, :at)"), {"n": f"n{n}", "at": old if n == 0 else now + timedelta(minutes=5)})
        for state, resolved in (("replayed", old), ("discarded", old), ("dead", None), ("replayed", recent)):
            await c.execute(
                text("INSERT INTO dead_letters (consumer, state, topic, body, resolved_at) VALUES ('c', :s, 't', '\\x00', :r)"), {"s": state, "r": resolved}
            )
    removed = await prune(create_session_factory(engine), Retention(dead_letters=timedelta(days=7), batch=2, max_batches=100), now=now)
    assert removed == {"outbox": 7, "inbox": 3, "dead_letters": 2, "rate_limit_hits": 1, "captcha_nonces": 1}
    assert [await count(engine, t) for t in ("outbox", "inbox", "dead_letters", "rate_limit_hits", "captcha_nonces")] == [2, 1, 2, 1, 1]
