"""E7 exactly one winner: concurrent saves leave exactly one binding.

Each test first shows the race is real: the same check-then-insert without the database guard
(a copy of `registrations` without its unique constraints), fired at the same time, binds twice.
Then the real endpoint, fired the same way, binds once."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

TWO_SAVES_AT_ONCE = 6


async def unguarded_bind(ctx, *, exam_session_id: uuid.UUID, passport_id: str, student_id: uuid.UUID) -> bool:
    """The naive bind: look for an existing binding, then insert. Nothing stops two at once."""
    async with ctx.engine.begin() as connection:
        taken = await connection.scalar(
            text("SELECT count(*) FROM race_registrations WHERE exam_session_id = :s AND (student_id = :st OR passport_id = :p)"),
            {"s": exam_session_id, "st": student_id, "p": passport_id},
        )
        if taken:
            return False
        await asyncio.sleep(0.05)  # the work between check and insert: building the snapshot
        await connection.execute(
            text(
                "INSERT INTO race_registrations (id, exam_session_id, passport_id, student_id, snapshot, qualification_subjects, saved_at) "
                "VALUES (:id, :s, :p, :st, '{}'::jsonb, '{}', now())"
            ),
            {"id": uuid.uuid4(), "s": exam_session_id, "p": passport_id, "st": student_id},
        )
        return True


async def unguarded_table(ctx) -> None:
    async with ctx.engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS race_registrations"))
        # LIKE without INCLUDING CONSTRAINTS/INDEXES: the same columns, no unique guard.
        await connection.execute(text("CREATE TABLE race_registrations (LIKE registrations INCLUDING DEFAULTS)"))


async def student_id(ctx, who) -> uuid.UUID:
    async with ctx.engine.connect() as connection:
        return await connection.scalar(text("SELECT id FROM students WHERE id_number = :n"), {"n": who["id_number"]})


async def bindings(ctx, table: str = "registrations") -> list:
    async with ctx.engine.connect() as connection:
        return (await connection.execute(text(f"SELECT passport_id, student_id FROM {table}"))).all()


async def test_e7_two_accounts_binding_one_candidate_at_once_exactly_one_wins(world, client, ctx):
    sid = await world.publish_session()
    liao = await student_id(ctx, world.LIAO)

    await unguarded_table(ctx)
    results = await asyncio.gather(
        *(unguarded_bind(ctx, exam_session_id=sid, passport_id=world.new_passport_id(), student_id=liao) for _ in range(TWO_SAVES_AT_ONCE))
    )
    assert sum(results) > 1 and len(await bindings(ctx, "race_registrations")) > 1, "without the guard the race binds the candidate twice"

    accounts = [world.candidate() for _ in range(TWO_SAVES_AT_ONCE)]
    for headers in accounts:
        await world.agree(headers)
    responses = await asyncio.gather(*(world.save(headers, world.LIAO) for headers in accounts))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (TWO_SAVES_AT_ONCE - 1), [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"candidate_already_bound"}
    assert len(await bindings(ctx)) == 1
    assert len(await world.published("RegistrationBound")) == 1


async def test_e7_one_account_binding_two_candidates_at_once_exactly_one_wins(world, client, ctx):
    sid = await world.publish_session()
    students = [await student_id(ctx, who) for who in (world.LIAO, world.LI_BO, world.YAN)]

    await unguarded_table(ctx)
    pid = world.new_passport_id()
    results = await asyncio.gather(*(unguarded_bind(ctx, exam_session_id=sid, passport_id=pid, student_id=s) for s in students))
    assert sum(results) > 1, "without the guard one account binds several candidates"

    headers = world.candidate()
    await world.agree(headers)
    responses = await asyncio.gather(*(world.save(headers, who) for who in (world.LIAO, world.LI_BO, world.YAN)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"account_already_bound"}
    assert len(await bindings(ctx)) == 1


async def test_e7_the_same_account_saving_the_same_candidate_twice_at_once_is_one_success(world, client, ctx):
    await world.publish_session()
    headers = world.candidate()
    await world.agree(headers)
    responses = await asyncio.gather(*(world.save(headers, world.LIAO) for _ in range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len({r.json()["registration_id"] for r in responses}) == 1
    assert len(await bindings(ctx)) == 1
