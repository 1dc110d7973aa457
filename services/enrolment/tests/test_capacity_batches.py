"""N11 / O1 for the batched hold (group commit, migration sh01, `db.hold_batches`), with 2 and 4
replicas, each its own asyncpg pool on one database as an api replica has:

- the race is real: `hold_seats_batch()` with its guard taken out (the offerings read without
  FOR UPDATE, and the batch writing back the count it computed instead of `take_seats()`'s
  conditional decrement) sells more seats than there are when batches of several replicas run at once;
- with the guard, the same batches sell exactly the capacity, every hold gets its own answer in
  its batch (a 'held' is a row holding a seat, a 'full' wrote nothing), and `remaining` is exact;
- a registration twice in one batch holds once: its second entry is 'changed' (read and check again);
- through real api processes (the batcher itself), concurrent clicks go in batches: fewer
  transactions than holds, and still exactly the capacity."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from enrolment.bootstrap import _json_codecs
from enrolment.db.context import fetch_oral_choice
from enrolment.db.migrations.versions.sh01_hold_batches import _BATCH
from enrolment.service.seats import hold_entry, new_holds

SEATS = 10
BATCHES = 8
PER_BATCH = 5  # 40 candidates for 10 seats

# The same function without its guard: no row lock on the offerings, a think time between reading
# `remaining` and writing it, and the batch's own count written back.
_UNGUARDED = (
    _BATCH.replace("CREATE FUNCTION hold_seats_batch(", "CREATE OR REPLACE FUNCTION hold_seats_batch_unguarded(")
    .replace("ORDER BY id FOR UPDATE\n    ) o;", ") o;\n    PERFORM pg_sleep(0.05);")
    .replace(
        re.search(r"PERFORM take_seats\(ARRAY\(.*?\)\);", _BATCH, re.S).group(0),  # type: ignore[union-attr]
        "UPDATE offerings o SET remaining = (left_seats ->> o.id::text)::integer WHERE left_seats ? o.id::text;",
    )
)


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _entries(pool: asyncpg.Pool, candidates: list, offering_id) -> list[dict[str, Any]]:
    """Each candidate's click as the api builds it: its context and the offering in one read, one hold."""
    now = datetime.now(UTC)
    entries = []
    async with pool.acquire() as connection:
        for candidate in candidates:
            offering, context = await fetch_oral_choice(connection, offering_id, candidate.passport_id)
            assert offering is not None and context is not None
            entries.append(hold_entry(context, new_holds([offering], now=now, expires_at=now + timedelta(hours=24))))
    return entries


async def _run_batches(database_url: str, replicas: int, batches: list[list[dict[str, Any]]], function: str) -> list[list[str]]:
    pools = [await asyncpg.create_pool(_dsn(database_url), min_size=1, max_size=4, init=_json_codecs) for _ in range(replicas)]
    try:

        async def send(index: int, batch: list[dict[str, Any]]) -> list[str]:
            async with pools[index % replicas].acquire() as connection:
                return list(await connection.fetchval(f"SELECT {function}($1)", batch))

        return await asyncio.gather(*(send(i, batch) for i, batch in enumerate(batches)))
    finally:
        for pool in pools:
            await pool.close()


async def _grabbers(world, count: int) -> list:
    candidates = [await world.bind() for _ in range(count)]
    for start in range(0, count, 20):
        answers = await asyncio.gather(*(c.written("1") for c in candidates[start : start + 20]))
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
    return candidates


async def _held_rows(world, offering) -> int:
    return await world.scalar("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering)


@pytest.mark.parametrize("replicas", [2, 4])
async def test_n11_batches_without_the_guard_oversell(world, database_url: str, replicas: int) -> None:
    world.ctx.clock.set(datetime.now(UTC))
    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats
    candidates = await _grabbers(world, BATCHES * PER_BATCH)
    async with world.ctx.engine.begin() as connection:
        await connection.exec_driver_sql(_UNGUARDED)
    pool = await asyncpg.create_pool(_dsn(database_url), min_size=1, max_size=1, init=_json_codecs)
    try:
        entries = await _entries(pool, candidates, offering)
    finally:
        await pool.close()
    batches = [entries[i : i + PER_BATCH] for i in range(0, len(entries), PER_BATCH)]

    outcomes = await _run_batches(database_url, replicas, batches, "hold_seats_batch_unguarded")

    held = sum(o.count("held") for o in outcomes)
    assert held > SEATS, ("the unguarded batches should oversell", outcomes)
    assert await _held_rows(world, offering) == held > SEATS
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) >= 0  # and the count no longer says so


@pytest.mark.parametrize("replicas", [2, 4])
async def test_n11_batches_with_the_guard_sell_exactly_the_capacity(world, database_url: str, replicas: int) -> None:
    world.ctx.clock.set(datetime.now(UTC))
    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats
    candidates = await _grabbers(world, BATCHES * PER_BATCH)
    pool = await asyncpg.create_pool(_dsn(database_url), min_size=1, max_size=1, init=_json_codecs)
    try:
        entries = await _entries(pool, candidates, offering)
    finally:
        await pool.close()
    batches = [entries[i : i + PER_BATCH] for i in range(0, len(entries), PER_BATCH)]

    outcomes = await _run_batches(database_url, replicas, batches, "hold_seats_batch")

    answers = Counter(o for batch in outcomes for o in batch)
    assert answers == {"held": SEATS, "full": len(entries) - SEATS}, outcomes
    # Each hold's own answer: exactly the entries answered 'held' are rows holding a seat.
    answered = {e["enrolments"][0]["id"] for batch, out in zip(batches, outcomes, strict=True) for e, o in zip(batch, out, strict=True) if o == "held"}
    rows = await world.scalar("SELECT array_agg(id::text) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering)
    assert set(rows) == answered
    assert await world.scalar("SELECT capacity - remaining FROM offerings WHERE id = :id", id=offering) == SEATS
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0
    assert len([e for e in await world.outbox("SubjectEnrolled") if e["subject_code"] == "F"]) == SEATS


async def test_n9_n11_a_registration_twice_in_one_batch_holds_once(world, database_url: str) -> None:
    world.ctx.clock.set(datetime.now(UTC))
    await world.open_session()
    offering = await world.offering("991010", "F")
    [candidate] = await _grabbers(world, 1)
    pool = await asyncpg.create_pool(_dsn(database_url), min_size=1, max_size=1, init=_json_codecs)
    try:
        twice = await _entries(pool, [candidate, candidate], offering)
    finally:
        await pool.close()

    [outcomes] = await _run_batches(database_url, 1, [twice], "hold_seats_batch")

    assert outcomes == ["held", "changed"]
    assert await _held_rows(world, offering) == 1
    assert await world.scalar("SELECT capacity - remaining FROM offerings WHERE id = :id", id=offering) == 1


async def test_n11_clicks_over_several_api_processes_go_in_batches(world, replicas) -> None:
    """Through the api replicas of test_capacity_proof (real uvicorn processes): 60 clicks at once
    for 10 seats take exactly 10, in fewer transactions than holds (the enrolments written in one
    transaction share its xmin)."""
    world.ctx.clock.set(datetime.now(UTC))
    await world.open_session()
    offering = await world.offering("991010", "F")
    candidates = await _grabbers(world, 60)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=60), timeout=60) as http:
        answers = await asyncio.gather(
            *(http.post(f"{replicas[i % len(replicas)]}/me/oral", json={"offering_id": str(offering)}, headers=c.headers) for i, c in enumerate(candidates))
        )
    assert Counter(a.status_code for a in answers) == {201: SEATS, 409: 60 - SEATS}
    assert await _held_rows(world, offering) == SEATS
    transactions = await world.scalar("SELECT count(DISTINCT xmin::text) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering)
    assert transactions < SEATS, "concurrent clicks of one replica should share a batch"
