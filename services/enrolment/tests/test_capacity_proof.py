"""N11 / O1, proven the way pretix proves its quotas, with 2 and 4 api replicas (separate uvicorn
processes, each with its own pools, on one database): first that the race is real when a seat is
taken by read-then-write from several replicas, then that the seat primitive (`hold_seats()` →
`take_seats()`, migration 0006: the conditional decrement inside the hold's own statement) sells
exactly the capacity, and that `remaining` and its colour stay exact while seats are taken,
cancelled, handed to the waiting list and returned to the pool at the same time (N8, N14)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from cet_shared.db import create_engine
from enrolment.domain.seats import capacity_colour, capacity_label

SEATS = 10
CANDIDATES = 200


@pytest.mark.parametrize("replicas", [2, 4])
async def test_n11_the_race_is_real_without_the_guard(world, database_url: str, replicas: int) -> None:
    """Read `remaining`, decide, write it back, from `replicas` engines (pools) at once: 20
    concurrent buyers of 10 seats all succeed, and the count is even lost."""
    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats
    engines = [create_engine(database_url, pool_size=10, max_overflow=0, application_name=f"replica-{i}") for i in range(replicas)]

    async def read_then_write(index: int) -> bool:
        async with engines[index % replicas].connect() as connection:
            remaining = (await connection.execute(text("SELECT remaining FROM offerings WHERE id = :id"), {"id": offering})).scalar_one()
            await connection.commit()
            await asyncio.sleep(0.05)  # the think time between reading and writing that every request has
            if remaining <= 0:
                return False
            await connection.execute(text("UPDATE offerings SET remaining = :r WHERE id = :id"), {"r": remaining - 1, "id": offering})
            await connection.commit()
            return True

    try:
        sold = sum(await asyncio.gather(*(read_then_write(i) for i in range(20))))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sold > SEATS, "the unguarded read-then-write should oversell"
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) > 0  # and it even loses count


async def _with_written(world, count: int, **bind) -> list:
    candidates = [await world.bind(**bind) for _ in range(count)]
    for batch in range(0, count, 20):
        answers = await asyncio.gather(*(c.written("1") for c in candidates[batch : batch + 20]))
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
    return candidates


async def _seats_exact(world, offering) -> tuple[int, int, int]:
    """(capacity, remaining, rows holding a seat): N11 exact means capacity − remaining = held."""
    async with world.ctx.engine.connect() as connection:
        capacity, remaining = (await connection.execute(text("SELECT capacity, remaining FROM offerings WHERE id = :id"), {"id": offering})).one()
        held = (await connection.execute(text("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held"), {"id": offering})).scalar_one()
    assert capacity - remaining == held and 0 <= remaining <= capacity, (capacity, remaining, held)
    return capacity, remaining, held


async def _shown(world, candidate) -> tuple[str, str]:
    listing = (await world.client.get("/me/oral/F/campuses", headers=candidate.headers)).json()
    [campus] = [c for c in listing["campuses"] if c["campus"].startswith("(991010)")]
    return campus["remaining_label"], campus["colour"]


async def test_n11_concurrent_requests_for_10_seats_over_several_api_processes(world, replicas) -> None:
    world.ctx.clock.set(datetime.now(UTC))  # the replicas run on the system clock
    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats
    candidates = await _with_written(world, CANDIDATES)

    limits = httpx.Limits(max_connections=CANDIDATES, max_keepalive_connections=CANDIDATES)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def grab(index: int, candidate) -> tuple[str, httpx.Response]:
            url = replicas[index % len(replicas)]
            return url, await http.post(f"{url}/me/oral", json={"offering_id": str(offering)}, headers=candidate.headers)

        answers = await asyncio.gather(*(grab(i, c) for i, c in enumerate(candidates)))

    statuses = Counter(response.status_code for _, response in answers)
    assert statuses == {201: SEATS, 409: CANDIDATES - SEATS}, statuses
    assert {response.json()["code"] for _, response in answers if response.status_code == 409} == {"seats_full"}
    assert {url for url, _ in answers} == set(replicas)
    # Every hold answered 201 is a row holding a seat, and the other way round.
    async with world.ctx.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id::text FROM enrolments WHERE offering_id = :id AND seat_held"), {"id": offering})).scalars().all()
    answered = {response.json()["enrolment_ids"][0] for _, response in answers if response.status_code == 201}
    assert set(rows) == answered
    assert await _seats_exact(world, offering) == (SEATS, 0, SEATS)
    assert await _shown(world, candidates[0]) == ("无", "red")
    assert len([e for e in await world.outbox("SubjectEnrolled") if e["subject_code"] == "F"]) == SEATS


async def test_n11_n14_seats_stay_exact_while_taken_cancelled_and_promoted_over_several_api_processes(world, replicas) -> None:
    """10 holders, 5 candidates waiting, 30 grabbing: the holders cancel while the others grab,
    all at once over the replicas. Every freed seat goes to the line first (all 5 promoted), the
    rest back to the pool and to the grabbers; capacity − remaining is the
    number of rows holding a seat at the end, and the list shows that number and its colour."""
    world.ctx.clock.set(datetime.now(UTC))
    await world.open_session()
    offering = await world.offering("991010", "F")
    holders, waiting, grabbers = await _with_written(world, SEATS), await _with_written(world, 5), await _with_written(world, 30)
    held = {}
    for candidate in holders:
        response = await candidate.oral(offering)
        assert response.status_code == 201, response.text
        held[candidate] = response.json()["enrolment_ids"][0]
    entries = []
    for candidate in waiting:
        response = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=candidate.headers)
        assert response.status_code == 201, response.text
        entries.append(response.json()["waitlist_id"])

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64), timeout=60) as http:

        def url(index: int) -> str:
            return replicas[index % len(replicas)]

        cancels = [http.delete(f"{url(i)}/me/enrolments/{held[c]}", headers=c.headers) for i, c in enumerate(holders)]
        grabs = [http.post(f"{url(i + 1)}/me/oral", json={"offering_id": str(offering)}, headers=c.headers) for i, c in enumerate(grabbers)]
        answers = await asyncio.gather(*cancels, *grabs)

    assert [a.status_code for a in answers[:SEATS]] == [204] * SEATS, [a.text for a in answers[:SEATS] if a.status_code != 204]
    grabbed = Counter(a.status_code for a in answers[SEATS:])
    assert set(grabbed) <= {201, 409} and {a.json()["code"] for a in answers[SEATS:] if a.status_code == 409} <= {"seats_full"}
    promoted = await world.scalar("SELECT count(*) FROM waitlist WHERE offering_id = :id AND status = 'promoted'", id=offering)
    assert promoted == 5 and await world.scalar("SELECT count(*) FROM waitlist WHERE status = 'waiting'") == 0
    capacity, remaining, holding = await _seats_exact(world, offering)
    assert holding == promoted + grabbed[201] <= capacity
    assert await _shown(world, grabbers[0]) == (capacity_label(capacity, remaining), capacity_colour(capacity, remaining))
    assert len(await world.outbox("SubjectCancelled")) == SEATS
