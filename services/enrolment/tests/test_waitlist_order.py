"""N14, issue 11: the waiting list is strictly first come, first served, and its promotion runs
the checks a click runs (N9, N10). Before the seat primitive, promotion skipped (SKIP LOCKED) a
head whose registration was locked at that moment, and re-checked only N6 and the release."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.testing import wait_for
from enrolment.service.sessions import SchoolOralSpec, set_capacity, set_school_oral_setting


async def _full_campus_with_a_line(world):
    """Campus 993010's 2 F seats held by a and b; c then d waiting, in that order."""
    await world.open_session()
    offering = await world.offering("993010", "F")
    a, b, c, d = [await world.bind(school="99301", campus="993010") for _ in range(4)]
    for candidate in (a, b, c, d):
        assert (await candidate.written("1")).status_code == 201
    a_oral = (await a.oral(offering)).json()["enrolment_ids"][0]
    assert (await b.oral(offering)).status_code == 201
    for candidate in (c, d):
        response = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=candidate.headers)
        assert response.status_code == 201, response.text
    world.ctx.clock.advance(timedelta(hours=1))
    return offering, a, a_oral, c, d


async def _oral_holder(world, offering) -> set:
    """Who holds a seat of the offering taken in the last half hour (after the line formed)."""
    async with world.ctx.sessions() as session:
        rows = await session.execute(
            text("SELECT registration_id FROM enrolments WHERE offering_id = :id AND seat_held AND enrolled_at > :t"),
            {"id": offering, "t": world.ctx.clock.now() - timedelta(minutes=30)},
        )
        return set(rows.scalars())


async def _line(world) -> dict:
    async with world.ctx.sessions() as session:
        return dict((await session.execute(text("SELECT registration_id, status FROM waitlist"))).all())


async def test_n14_the_first_in_line_gets_the_seat_even_while_their_registration_is_busy(world) -> None:
    """c's registration is locked (a click, a payment of theirs in progress) at the moment a's
    cancel frees the seat: the promotion waits for c instead of giving the seat to d."""
    offering, a, a_oral, c, d = await _full_campus_with_a_line(world)
    busy = AsyncSession(world.ctx.engine)
    try:
        await busy.execute(text("SELECT 1 FROM registrations WHERE registration_id = :r FOR UPDATE"), {"r": c.registration_id})
        cancelling = asyncio.create_task(a.cancel(a_oral))
        await wait_for(lambda: world.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted"), timeout=20, what="the promotion to wait for c")
        assert not cancelling.done()
        await busy.commit()
        assert (await cancelling).status_code == 204
    finally:
        await busy.close()
    assert await _oral_holder(world, offering) == {c.registration_id}
    assert await _line(world) == {c.registration_id: "promoted", d.registration_id: "waiting"}
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0


async def test_n14_n10_promotion_runs_a_clicks_checks_and_passes_over_who_no_longer_qualifies(world, document_for) -> None:
    """Campus 991010 (open to other schools) cut to 2 seats, held by a and b of its own school; c
    (school 99301) then d (school 99302) wait. School 99301 then narrows its candidates' oral
    campuses to its own (N10): c would be refused on a click, so c leaves the line and d, next,
    gets the seat a's cancel frees."""
    document = document_for(world.ctx.clock.now())
    document["campuses"].append(
        {
            "province_code": "99",
            "school_code": "99302",
            "school_name": "测试学校机构02",
            "campus_code": "993020",
            "campus_name": "测试校区机构002",
            "offerings": [{"subject": "1", "fee_fen": 1}],
        }
    )
    document["school_oral_settings"].append({"school_code": "99302", "allow_other_schools": True})
    await world.open_session(campuses=document["campuses"], school_oral_settings=document["school_oral_settings"])
    offering = await world.offering("991010", "F")
    assert (await set_capacity(world.ctx.unit_of_work, world.ctx.clock, world.ctx.settings.unpaid_lifetime, offering, 2))["remaining"] == 2
    a, b = await world.bind(), await world.bind()
    c, d = await world.bind(school="99301", campus="993010"), await world.bind(school="99302", campus="993020")
    for candidate in (a, b, c, d):
        assert (await candidate.written("1")).status_code == 201
    a_oral = (await a.oral(offering)).json()["enrolment_ids"][0]
    assert (await b.oral(offering)).status_code == 201
    for candidate in (c, d):
        response = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=candidate.headers)
        assert response.status_code == 201, response.text
    world.ctx.clock.advance(timedelta(hours=1))
    await set_school_oral_setting(
        world.ctx.unit_of_work, world.session_id, SchoolOralSpec(school_code="99301", allow_other_schools=True, allowed_campus_codes=["993010"])
    )
    listing = (await world.client.get("/me/oral/F/campuses", headers=c.headers)).json()
    assert [campus["campus"][:8] for campus in listing["campuses"]] == ["(993010)"]  # a click on 991010 is refused now
    assert (await a.cancel(a_oral)).status_code == 204
    assert await _oral_holder(world, offering) == {d.registration_id}
    assert await _line(world) == {c.registration_id: "left", d.registration_id: "promoted"}
