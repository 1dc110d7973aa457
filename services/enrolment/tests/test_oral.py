"""Oral enrolment: N6, N9, N10, N11 (list and colours), N14 (waiting list)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text


async def test_n6_oral_needs_the_same_level_written_subject_first(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    f_991010 = await world.offering("991010", "F")
    alone = await candidate.oral(f_991010)
    assert alone.status_code == 409 and world.code(alone) == "written_first"
    # Another level-4 written subject is not enough: 英语四级口试 belongs to 英语四级.
    assert (await candidate.written("3")).status_code == 201
    still = await candidate.oral(f_991010)
    assert world.code(still) == "written_first"
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE kind = 'oral'") == 0


async def test_n6_written_alone_is_allowed_and_then_oral_works(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    assert (await candidate.written("1")).status_code == 201
    response = await candidate.oral(await world.offering("991010", "F"))
    assert response.status_code == 201, response.text
    page = await candidate.page()
    assert [r["subject"] for r in page["oral"]["rows"]] == ["(F) 英语四级口试"]
    assert page["oral"]["rows"][0]["campus"] == "(991010)99101-0校区"


async def test_n9_oral_needs_qualification(world) -> None:
    await world.open_session()
    candidate = await world.bind(qualifications=("英语四级笔试",))
    assert (await candidate.written("1")).status_code == 201
    refused = await candidate.oral(await world.offering("991010", "F"))
    assert refused.status_code == 403 and world.code(refused) == "not_qualified"
    listing = (await world.client.get("/me/oral/S/campuses", headers=candidate.headers)).json()
    assert listing["qualified"] is False and listing["message"] == "不具有CET六级口试报考资格！"


async def test_n9_oral_needs_an_exam_date(world) -> None:
    await world.open_session(oral_exam_dates={"S": "2017-05-21"})
    candidate = await world.bind()
    await candidate.written("1")
    refused = await candidate.oral(await world.offering("991010", "F"))
    assert refused.status_code == 409 and world.code(refused) == "exam_date_not_set"


async def test_n9_oral_needs_the_campus_inside_its_registration_time(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    await candidate.written("1")
    offering = await world.offering("991010", "F")
    async with world.ctx.engine.begin() as connection:
        await connection.execute(text("UPDATE offerings SET opens_at = :t WHERE id = :id"), {"t": world.ctx.clock.now() + timedelta(days=2), "id": offering})
    refused = await candidate.oral(offering)
    assert refused.status_code == 409 and world.code(refused) == "campus_not_open"
    world.ctx.clock.advance(timedelta(days=2))
    assert (await candidate.oral(offering)).status_code == 201


async def test_n9_oral_needs_a_fee_set_above_zero(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    await candidate.written("1")
    offering = await world.offering("991010", "F")
    for fee in (None, 0):
        async with world.ctx.engine.begin() as connection:
            await connection.execute(text("UPDATE offerings SET fee_fen = :fee WHERE id = :id"), {"fee": fee, "id": offering})
        refused = await candidate.oral(offering)
        assert refused.status_code == 409 and world.code(refused) == "fee_not_set"


async def test_n9_oral_needs_remaining_capacity_and_answers_full_clearly(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")  # capacity 2, school 99301 only
    candidates = [await world.bind(school="99301", campus="993010") for _ in range(3)]
    for candidate in candidates:
        await candidate.written("1")
    assert (await candidates[0].oral(offering)).status_code == 201
    assert (await candidates[1].oral(offering)).status_code == 201
    full = await candidates[2].oral(offering)
    assert full.status_code == 409 and world.code(full) == "seats_full"
    assert full.json()["title"] == "该校区考位已报满，请选择其他校区"
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0


async def test_n9_no_second_oral_of_the_same_level(world) -> None:
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010")
    await candidate.written("1")
    assert (await candidate.oral(await world.offering("993010", "F"))).status_code == 201
    again = await candidate.oral(await world.offering("991010", "F"))
    assert world.code(again) == "already_enrolled"


async def test_n10_written_campus_without_outside_orals_gives_no_choice(world) -> None:
    """School 99101 does not let its candidates take orals elsewhere: its own campus, selected,
    with its school notice loaded."""
    await world.open_session()
    candidate = await world.bind()
    listing = (await world.client.get("/me/oral/F/campuses", headers=candidate.headers)).json()
    assert listing["fixed"] is True
    assert [c["campus"] for c in listing["campuses"]] == ["(991010)99101-0校区"]
    assert [n["title"] for n in listing["school_notices"]] == ["(99101)测试学校通告"]
    # Another school's campus is refused even by id.
    await candidate.written("1")
    refused = await candidate.oral(await world.offering("993010", "F"))
    assert refused.status_code == 403 and world.code(refused) == "campus_not_available"


async def test_n10_list_follows_school_settings_and_holds_only_campuses_open_now(world) -> None:
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010")
    listing = (await world.client.get("/me/oral/F/campuses", headers=candidate.headers)).json()
    assert listing["fixed"] is False
    # Own campus, and 991010 which accepts other schools' candidates.
    assert sorted(c["campus"] for c in listing["campuses"]) == ["(991010)99101-0校区", "(993010)测试校区机构001"]
    # 993010 does not accept other schools: a 99101 candidate never sees it (checked above); and
    # a campus that opens later is not listed yet.
    async with world.ctx.engine.begin() as connection:
        await connection.execute(
            text("UPDATE offerings SET opens_at = :t WHERE campus_code = '991010' AND subject_code = 'F'"), {"t": world.ctx.clock.now() + timedelta(hours=5)}
        )
    listing = (await world.client.get("/me/oral/F/campuses", headers=candidate.headers)).json()
    assert [c["campus"] for c in listing["campuses"]] == ["(993010)测试校区机构001"]
    # Restricting the school to named campuses.
    await world.client.put(
        f"/ops/sessions/{world.session_id}/school-oral-settings",
        json={"school_code": "99301", "allow_other_schools": True, "allowed_campus_codes": ["991010"]},
        headers=world.tokens.headers(None, "ops"),
    )
    world.ctx.clock.advance(timedelta(hours=6))
    listing = (await world.client.get("/me/oral/F/campuses", headers=candidate.headers)).json()
    assert [c["campus"] for c in listing["campuses"]] == ["(991010)99101-0校区"]
    notices = await world.client.get(f"/me/oral/offerings/{listing['campuses'][0]['offering_id']}/notices", headers=candidate.headers)
    assert [n["title"] for n in notices.json()] == ["(99101)测试学校通告"]


async def test_n11_remaining_capacity_colours(world) -> None:
    """Green above half of the set capacity, yellow at half or below, red 无 when full."""
    await world.open_session()
    offering = await world.offering("991010", "S")  # capacity 4
    candidates = [await world.bind(qualifications=("英语六级笔试", "英语六级口试")) for _ in range(4)]
    seen = []
    for candidate in candidates:
        listing = (await world.client.get("/me/oral/S/campuses", headers=candidate.headers)).json()
        [campus] = listing["campuses"]
        seen.append((campus["remaining_label"], campus["colour"], campus["selectable"]))
        assert (await candidate.written("2")).status_code == 201
        assert (await candidate.oral(offering)).status_code == 201
    listing = (await world.client.get("/me/oral/S/campuses", headers=candidates[0].headers)).json()
    [campus] = listing["campuses"]
    seen.append((campus["remaining_label"], campus["colour"], campus["selectable"]))
    assert seen == [("4", "green", True), ("3", "green", True), ("2", "yellow", True), ("1", "yellow", True), ("无", "red", False)]


async def test_n11_concurrent_grabs_in_one_process_never_oversell(world) -> None:
    await world.open_session()
    offering = await world.offering("991010", "S")  # 4 seats
    candidates = [await world.bind(qualifications=("英语六级笔试", "英语六级口试")) for _ in range(30)]
    for candidate in candidates:
        await candidate.written("2")
    answers = await asyncio.gather(*(c.oral(offering) for c in candidates))
    assert sorted(r.status_code for r in answers).count(201) == 4
    assert {world.code(r) for r in answers if r.status_code != 201} == {"seats_full"}
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering) == 4
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0


async def test_n14_full_campus_waiting_list_gets_the_freed_seat_with_a_fresh_deadline(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")  # 2 seats
    a, b, c, d = [await world.bind(school="99301", campus="993010") for _ in range(4)]
    for candidate in (a, b, c, d):
        await candidate.written("1")
    a_oral = (await a.oral(offering)).json()["enrolment_ids"][0]
    await b.oral(offering)
    too_early = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=a.headers)
    assert world.code(too_early) == "already_enrolled"
    first = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=c.headers)
    second = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=d.headers)
    assert first.status_code == 201 and second.status_code == 201
    twice = await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=c.headers)
    assert world.code(twice) == "already_waiting"

    world.ctx.clock.advance(timedelta(hours=1))
    assert (await a.cancel(a_oral)).status_code == 204
    # The seat went to c, first in line, not back to the pool.
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0
    page = await c.page()
    [row] = page["oral"]["rows"]
    assert row["subject"] == "(F) 英语四级口试" and row["payment_status"] == "未支付"
    enrolled = [e for e in await world.outbox("SubjectEnrolled") if e["registration_id"] == str(c.registration_id) and e["subject_code"] == "F"]
    assert len(enrolled) == 1
    assert enrolled[0]["expires_at"].startswith((world.ctx.clock.now() + world.ctx.settings.unpaid_lifetime).strftime("%Y-%m-%dT%H:%M"))
    assert (await d.page())["waiting"] != []
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering) == 2


async def test_n14_waiting_list_only_when_full(world) -> None:
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010")
    await candidate.written("1")
    response = await world.client.post("/me/waitlist", json={"offering_id": str(await world.offering("993010", "F"))}, headers=candidate.headers)
    assert response.status_code == 409 and world.code(response) == "seats_available"


async def test_n9_one_candidates_concurrent_clicks_hold_one_oral_of_a_level(world) -> None:
    """N9 (no second oral of a level) under concurrency: six simultaneous clicks of one candidate on
    the F orals of two campuses give one hold; the rest are told it is already enrolled, because
    `hold_seats()` re-reads the context under the registration's lock and the rules run again."""
    await world.open_session()
    candidate = await world.bind(school="99301", campus="993010")  # its school lets it take orals elsewhere
    assert (await candidate.written("1")).status_code == 201
    campuses = [await world.offering("991010", "F"), await world.offering("993010", "F")]
    answers = await asyncio.gather(*(candidate.oral(campuses[i % 2]) for i in range(6)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5, [a.text for a in answers]
    assert {world.code(a) for a in answers if a.status_code == 409} == {"already_enrolled"}
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE kind = 'oral' AND seat_held") == 1
    assert len(await world.outbox("SubjectEnrolled")) == 2  # the written subject and the one oral
    assert await world.scalar("SELECT sum(capacity - remaining) FROM offerings WHERE subject_code = 'F'") == 1


async def test_n6_cancelling_the_written_subject_while_grabbing_the_oral_never_leaves_an_oral_alone(world) -> None:
    """N6 under concurrency: a cancel of the written subject and an oral grab at the same moment end
    either with the oral refused (written_first) or with the cancel refused (oral_depends_on_written),
    never with an oral held without its written subject."""
    await world.open_session()
    offering = await world.offering("991010", "F")
    for _ in range(4):
        candidate = await world.bind()
        written = (await candidate.written("1")).json()["enrolment_ids"][0]
        cancel, oral = await asyncio.gather(candidate.cancel(written), candidate.oral(offering))
        assert (cancel.status_code, oral.status_code) in ((204, 409), (409, 201)), (cancel.text, oral.text)
        assert world.code(oral if oral.status_code == 409 else cancel) in ("written_first", "oral_depends_on_written")
    orphans = await world.scalar(
        "SELECT count(*) FROM enrolments o WHERE o.kind = 'oral' AND o.seat_held AND NOT EXISTS "
        "(SELECT 1 FROM enrolments w WHERE w.registration_id = o.registration_id AND w.subject_code = '1' AND w.seat_held)"
    )
    assert orphans == 0
