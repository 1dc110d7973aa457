"""Issue 10 (build 4), N11: a unit taking several seats locks offerings in one fixed order. Two
candidates' units taking the same two limited offerings, one as [F, S] and one as [S, F]: first
that the cycle is a real deadlock when each takes them in request order (the bare conditional
UPDATE), then that `take_seats()` (migration 0006, the only decrement, which every hold and a
late payment run) never deadlocks, whatever the request order."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.testing import wait_for

_BARE = text("UPDATE offerings SET remaining = remaining - 1 WHERE id = :id AND remaining > 0")
_TAKE = text("SELECT take_seats(CAST(:ids AS uuid[]))")


async def _someone_waits_for_a_lock(world) -> bool:
    return bool(await world.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted"))


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(getattr(error.orig, "driver_exception", error.orig), "sqlstate", None)


async def _two_units(world):
    await world.open_session()
    f, s = await world.offering("991010", "F"), await world.offering("991010", "S")
    return f, s, [AsyncSession(world.ctx.engine), AsyncSession(world.ctx.engine)]


async def _settle(session: AsyncSession, step) -> str:
    try:
        await step
        await session.commit()
        return "committed"
    except DBAPIError as error:
        await session.rollback()
        return _sqlstate(error) or repr(error)


async def _take(session: AsyncSession, *offering_ids: uuid.UUID) -> None:
    await session.execute(_TAKE, {"ids": [str(i) for i in offering_ids]})


async def test_n11_seats_taken_in_request_order_deadlock_on_the_reverse_order(world) -> None:
    """A takes [F, S], B takes [S, F], one seat each first: the cycle PostgreSQL breaks with 40P01."""
    f, s, [a, b] = await _two_units(world)
    try:
        await a.execute(_BARE, {"id": f})
        await b.execute(_BARE, {"id": s})
        a_second = asyncio.create_task(_settle(a, a.execute(_BARE, {"id": s})))  # waits for B's S
        await wait_for(lambda: _someone_waits_for_a_lock(world), timeout=10, what="A to wait for S")
        b_second = await _settle(b, b.execute(_BARE, {"id": f}))  # waits for A's F: a cycle
        outcomes = sorted([await a_second, b_second])
    finally:
        await a.close()
        await b.close()
    assert outcomes == ["40P01", "committed"], outcomes


async def test_n11_take_seats_in_offering_id_order_never_deadlocks(world) -> None:
    """The same cycle offered to `take_seats()`: A holds the lower offering id and B asks for
    [higher, lower]. B takes the lower one first, so it waits holding nothing; A takes the higher
    one and commits, then B; four seats taken. (In request order B would hold the higher one
    while waiting, and A's second take would close the cycle: 40P01.)"""
    f, s, [a, b] = await _two_units(world)
    lower, higher = sorted([f, s], key=str)
    before = await world.scalar("SELECT sum(remaining) FROM offerings WHERE id IN (:f, :s)", f=f, s=s)
    try:
        await _take(a, lower)
        b_takes = asyncio.create_task(_settle(b, _take(b, higher, lower)))
        await wait_for(lambda: _someone_waits_for_a_lock(world), timeout=10, what="B to wait for the lower offering")
        outcomes = [await _settle(a, _take(a, higher)), await b_takes]
    finally:
        await a.close()
        await b.close()
    assert outcomes == ["committed", "committed"], outcomes
    assert await world.scalar("SELECT sum(remaining) FROM offerings WHERE id IN (:f, :s)", f=f, s=s) == before - 4


async def test_n11_take_seats_refuses_with_ce409_and_changes_nothing_when_one_is_missing(world) -> None:
    """All or nothing: S has no seat left, so a unit taking [F, S] takes neither."""
    f, s, [a, b] = await _two_units(world)
    async with world.ctx.engine.begin() as connection:
        await connection.execute(text("UPDATE offerings SET remaining = 0 WHERE id = :s"), {"s": s})
    before = await world.scalar("SELECT remaining FROM offerings WHERE id = :f", f=f)
    try:
        outcome = await _settle(a, _take(a, f, s))
    finally:
        await a.close()
        await b.close()
    assert outcome == "CE409"
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :f", f=f) == before
