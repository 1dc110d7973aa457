"""N13 at scale: the arrangement (编排) is a background job in short batches — progress while it
runs, one run of a session at a time, resumed after a worker dies mid-batch without a seat given
twice, the same seats whatever the batch size, ticket numbers as the domain rule writes them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cet_shared.testing import sibling_module, wait_for
from enrolment.domain.rules import ticket_number

helpers = sibling_module(__file__, "arrangement_helpers")


async def test_n13_a_worker_killed_mid_batch_is_resumed_without_a_seat_twice_and_seats_do_not_depend_on_the_batch_size(world) -> None:
    await world.open_session()
    ops = {**world.tokens.headers(None, "ops"), "prefer": "respond-async"}
    paid = await helpers.paid_candidates(world, 8)
    world.ctx.clock.advance(timedelta(days=11))

    queued = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
    assert queued.status_code == 202 and queued.headers["preference-applied"] == "respond-async", queued.text
    assert queued.json()["status"] == "queued"
    again = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
    assert again.status_code == 202 and again.headers["location"] == queued.headers["location"], "one run of a session at a time"
    candidate = world.tokens.headers(None, "candidate")
    assert (await world.client.get(queued.headers["location"], headers=candidate)).status_code == 403

    # A worker freezes the input and writes batch 1 (3 subjects); batch 2 waits on a row the test
    # holds, and then the worker's connection dies (as with a killed process): batch 2 rolls back.
    async with world.ctx.engine.connect() as blocker:
        await blocker.begin()
        await blocker.execute(text("SELECT 1 FROM enrolments WHERE id = :id FOR UPDATE"), {"id": paid[4][1]})
        worker = asyncio.create_task(helpers.run(world, 3))
        (pid,) = await wait_for(lambda: helpers.waiting_on_a_lock(world, "arrangement_queue"), what="the worker's batch 2 mid-run")
        progress = (await world.client.get(queued.headers["location"], headers=ops)).json()
        assert (progress["status"], progress["total"], progress["arranged"], progress["progress"]) == ("running", 8, 3, 3 / 8)
        await blocker.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError):
            await worker
        await blocker.rollback()
    progress = (await world.client.get(queued.headers["location"], headers=ops)).json()
    assert (progress["status"], progress["arranged"]) == ("running", 3), "the dead worker's open batch left nothing behind"

    assert await helpers.run(world, 3) == 0, "another worker waits while the dead one's lease runs"
    world.ctx.clock.advance(world.ctx.settings.arrangement_lease + timedelta(seconds=1))
    assert await helpers.run(world, 3) == 5
    done = (await world.client.get(queued.headers["location"], headers=ops)).json()
    assert (done["status"], done["arranged"], done["progress"], done["status_label"]) == ("done", 8, 1.0, "已完成")
    first = await helpers.seats(world)
    assert len(first) == 8 and len({row[-1] for row in first}) == 8, "every subject one seat, no seat twice"
    assert [row[0] for row in first] == [uuid.UUID(i) for _, i in paid], "rooms fill in payment order"
    assert [(row[5], row[6]) for row in first] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 1), (3, 2)]
    for _, province, school, campus, subject, room, seat, number in first:  # the SQL freeze writes what the domain rule writes
        assert number == ticket_number(
            province_code=province, school_code=school, campus_code=campus, year=2017, half=2, subject_code=subject, room=room, seat=seat
        )

    # Same input, same seats: undo the arrangement, run it again in other batch sizes.
    for batch in (1, 5, 10_000):
        async with world.ctx.engine.begin() as connection:
            await connection.execute(text("UPDATE enrolments SET room = NULL, seat = NULL, ticket_number = NULL, arranged_at = NULL"))
        rerun = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)
        assert rerun.status_code == 202 and rerun.headers["location"] != queued.headers["location"]
        assert await helpers.run(world, batch) == 8
        assert await helpers.seats(world) == first, f"batches of {batch}"
    listed = (await world.client.get(f"/ops/sessions/{world.session_id}/arrangement/jobs", headers=ops)).json()["items"]
    assert len(listed) == 4 and listed[-1]["id"] == done["id"] and all(j["status"] == "done" for j in listed)
    assert await world.scalar("SELECT count(*) FROM arrangement_queue") == 0, "a finished job leaves no queue behind"


async def test_n13_same_seats_whatever_the_batch_and_however_many_offerings_are_frozen_at_a_time(world) -> None:
    await world.open_session()
    await helpers.paid_candidates(world, 4, school="99301", campus="993010")
    pairs = await helpers.paid_candidates(world, 3, school="99101", campus="991010")
    for candidate, _ in pairs[:2]:  # orals too: another offering of the same campus, F-numbered tickets
        (oral,) = (await candidate.oral(await world.offering("991010", "F"))).json()["enrolment_ids"]
        await helpers.pay(world, candidate, [oral])
    world.ctx.clock.advance(timedelta(days=11))
    ops = {**world.tokens.headers(None, "ops"), "prefer": "respond-async"}
    first = None
    for batch, freeze_offerings in ((10_000, 100), (1, 1), (2, 2), (4, 3)):
        async with world.ctx.engine.begin() as connection:
            await connection.execute(text("UPDATE enrolments SET room = NULL, seat = NULL, ticket_number = NULL, arranged_at = NULL"))
        assert (await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)).status_code == 202
        assert await helpers.run(world, batch, freeze_offerings=freeze_offerings) == 9
        seated = await helpers.seats(world)
        first = first or seated
        assert seated == first, f"batches of {batch}, {freeze_offerings} offerings frozen at a time"
    assert [row[-1] for row in first] == [
        "991010172100101", "991010172100102", "991010172100103",
        "993010172100101", "993010172100102", "993010172100103", "993010172100201",
        "F99101017200101", "F99101017200102",
    ]  # fmt: skip


async def test_n13_a_queue_lost_in_a_server_crash_is_frozen_again_after_the_resumption_point(world) -> None:
    """The queue is UNLOGGED: a crash of PostgreSQL empties it. The job goes on with the same seats."""
    await world.open_session()
    await helpers.paid_candidates(world, 5)
    world.ctx.clock.advance(timedelta(days=11))
    ops = {**world.tokens.headers(None, "ops"), "prefer": "respond-async"}
    assert (await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=ops)).status_code == 202
    assert await helpers.run(world, 2, max_batches=1) == 2
    async with world.ctx.engine.begin() as connection:
        await connection.execute(text("TRUNCATE arrangement_queue"))  # what crash recovery does to an UNLOGGED table
    world.ctx.clock.advance(world.ctx.settings.arrangement_lease + timedelta(seconds=1))
    assert await helpers.run(world, 2) == 3
    assert [(row[5], row[6]) for row in await helpers.seats(world)] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]
    job = (await world.client.get(f"/ops/sessions/{world.session_id}/arrangement/jobs", headers=ops)).json()["items"][0]
    assert (job["status"], job["total"], job["arranged"]) == ("done", 5, 5)


async def test_n13_more_rooms_than_a_ticket_number_holds_fails_the_job_with_a_reason(world, settings) -> None:
    settings.seats_per_room = 1
    await world.open_session()
    (_, seated), (_, late) = await helpers.paid_candidates(world, 2)
    world.ctx.clock.advance(timedelta(days=11))
    # 999 seats of the campus already given: the next subject would need room 1000.
    async with world.ctx.engine.begin() as connection:
        await connection.execute(text("UPDATE enrolments SET room = 999, seat = 1, ticket_number = 'x', arranged_at = now() WHERE id = :id"), {"id": seated})
    refused = await world.client.post(f"/ops/sessions/{world.session_id}/arrangement", headers=world.tokens.headers(None, "ops"))
    assert refused.status_code == 409 and world.code(refused) == "arrangement_failed"
    assert "999" in refused.json()["title"]
    assert await world.scalar("SELECT ticket_number FROM enrolments WHERE id = CAST(:id AS uuid)", id=late) is None
    assert await world.scalar("SELECT count(*) FROM arrangement_queue") == 0
