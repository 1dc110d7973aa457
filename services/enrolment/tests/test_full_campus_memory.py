"""Issue 11 point 2, N11: a replica refuses a campus it saw full (red 无) without a database
round trip, and forgets it when any process returns a seat (NOTIFY seats_back, migration 0007)."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.testing import wait_for
from enrolment.service.full_campuses import MEMORY


async def _full_campus(world):
    await world.open_session()
    offering = await world.offering("993010", "F")  # 2 seats
    a, b, c = [await world.bind(school="99301", campus="993010") for _ in range(3)]
    for candidate in (a, b, c):
        assert (await candidate.written("1")).status_code == 201
    a_oral = (await a.oral(offering)).json()["enrolment_ids"][0]
    assert (await b.oral(offering)).status_code == 201
    assert world.code(await c.oral(offering)) == "seats_full"  # seen full: remembered
    assert MEMORY.listening and MEMORY.is_full(offering)
    return offering, a_oral, c


async def test_n11_a_campus_seen_full_is_refused_while_the_database_could_not_even_be_read(world) -> None:
    """Another session holds an ACCESS EXCLUSIVE lock on offerings, so any read of it waits: the
    remembered full campus is still refused at once (before, the click waited for the lock)."""
    offering, _, c = await _full_campus(world)
    blocker = AsyncSession(world.ctx.engine)
    try:
        await blocker.execute(text("LOCK TABLE offerings IN ACCESS EXCLUSIVE MODE"))
        answer = await asyncio.wait_for(c.oral(offering), timeout=5)
    finally:
        await blocker.rollback()
        await blocker.close()
    assert answer.status_code == 409 and world.code(answer) == "seats_full"


async def test_n11_a_seat_returned_by_another_process_is_offered_again(world, database_url: str) -> None:
    """A seat returns through another connection (another replica or the worker's expiry, which
    this process's memory does not see): its NOTIFY clears the memory and c gets the seat."""
    offering, a_oral, c = await _full_campus(world)
    generation = MEMORY.generation()
    other = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        async with other.transaction():
            await other.execute("UPDATE enrolments SET status = 'expired', seat_held = false, ended_at = now() WHERE id = $1", a_oral)
            await other.execute("SELECT return_seat_to_pool($1)", offering)
    finally:
        await other.close()
    await wait_for(lambda: MEMORY.generation() != generation, timeout=10, what="the seats_back notification")
    assert MEMORY.listening and not MEMORY.is_full(offering)
    assert (await c.oral(offering)).status_code == 201
