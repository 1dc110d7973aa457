"""Issue 10 (build 4), N11: written seat claims lock offerings in one fixed order. Two candidates'
units claiming the same two limited offerings, one as [F, S] and one as [S, F]: first that the
cycle is a real deadlock when each claims in request order, then that `claim_seats` (the path
`enrol_written` takes) never deadlocks, whatever the request order.

The claim trigger normally fires inside COMMIT; `SET CONSTRAINTS … IMMEDIATE` makes it fire at each
claim, so the test can hold the first offering's lock and interleave the two units exactly."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.testing import wait_for
from enrolment.service.seats import claim_seat, claim_seats


async def _enrolment(world) -> uuid.UUID:  # noqa: ANN001
    """A real enrolment row to hang claims on (seat_claims references enrolments)."""
    candidate = await world.bind()
    assert (await candidate.written("1")).status_code == 201
    return await world.scalar("SELECT id FROM enrolments WHERE registration_id = :r", r=candidate.registration_id)


async def _someone_waits_for_a_lock(world) -> bool:  # noqa: ANN001
    return bool(await world.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted"))


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(getattr(error.orig, "driver_exception", error.orig), "sqlstate", None)


async def _two_units(world):  # noqa: ANN001, ANN202
    """Two candidates' open units with immediate seat claims, on F and S of one campus."""
    await world.open_session()
    f, s = await world.offering("991010", "F"), await world.offering("991010", "S")
    units = []
    for _ in range(2):
        enrolment_id = await _enrolment(world)
        session = AsyncSession(world.ctx.engine)
        await session.execute(text("SET CONSTRAINTS take_claimed_seat IMMEDIATE"))
        units.append((session, enrolment_id))
    return f, s, units


async def _settle(session: AsyncSession, step) -> str:  # noqa: ANN001
    try:
        await step
        await session.commit()
        return "committed"
    except DBAPIError as error:
        await session.rollback()
        return _sqlstate(error) or repr(error)


async def test_n11_claims_in_request_order_deadlock_on_the_reverse_order(world) -> None:
    """A claims [F, S], B claims [S, F], one seat each first: the cycle PostgreSQL breaks with 40P01."""
    f, s, [(a, ea), (b, eb)] = await _two_units(world)
    try:
        await claim_seat(a, ea, f)
        await claim_seat(b, eb, s)
        a_second = asyncio.create_task(_settle(a, claim_seat(a, ea, s)))  # waits for B's S
        await wait_for(lambda: _someone_waits_for_a_lock(world), timeout=10, what="A to wait for S")
        b_second = await _settle(b, claim_seat(b, eb, f))  # waits for A's F: a cycle
        outcomes = sorted([await a_second, b_second])
    finally:
        await a.close()
        await b.close()
    assert outcomes == ["40P01", "committed"], outcomes


async def test_n11_claims_in_offering_id_order_never_deadlock(world) -> None:
    """The same cycle offered to `claim_seats`: A holds the lower offering id and B asks for
    [higher, lower]. B claims the lower one first, so it waits holding nothing; A takes the higher
    one and commits, then B; four seats taken. (Claimed in request order, B would hold the higher
    one while waiting, and A's second claim would close the cycle: 40P01.)"""
    f, s, [(a, ea), (b, eb)] = await _two_units(world)
    lower, higher = sorted([f, s], key=str)
    before = await world.scalar("SELECT sum(remaining) FROM offerings WHERE id IN (:f, :s)", f=f, s=s)
    try:
        await claim_seats(a, [(lower, ea)])
        b_claims = asyncio.create_task(_settle(b, claim_seats(b, [(higher, eb), (lower, eb)])))
        await wait_for(lambda: _someone_waits_for_a_lock(world), timeout=10, what="B to wait for the lower offering")
        outcomes = [await _settle(a, claim_seats(a, [(higher, ea)])), await b_claims]
    finally:
        await a.close()
        await b.close()
    assert outcomes == ["committed", "committed"], outcomes
    assert await world.scalar("SELECT sum(remaining) FROM offerings WHERE id IN (:f, :s)", f=f, s=s) == before - 4
