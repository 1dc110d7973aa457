"""N8: cancelling unpaid subjects, collective-payment locks, and the 24 h clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from cet_shared.events.contracts import PaymentConfirmed


async def _pay(world, candidate, enrolment_ids, amount=None, order_id=None):
    return await world.deliver(
        PaymentConfirmed(
            order_id=order_id or uuid.uuid4(),
            registration_id=candidate.registration_id,
            passport_id=candidate.passport_id,
            enrolment_ids=enrolment_ids,
            amount_fen=amount if amount is not None else len(enrolment_ids),
            gateway="alipay",
            gateway_transaction_id=uuid.uuid4().hex,
            paid_at=world.ctx.clock.now(),
        ),
        key=str(candidate.registration_id),
    )


async def test_n8_unpaid_subject_can_be_cancelled_and_its_seat_returns_once(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")
    candidate = await world.bind(school="99301", campus="993010")
    await candidate.written("1")
    oral = (await candidate.oral(offering)).json()["enrolment_ids"][0]
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 1
    answers = await asyncio.gather(*(candidate.cancel(oral) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [204, 404, 404, 404, 404]
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 2
    [cancelled] = await world.outbox("SubjectCancelled")
    assert cancelled["enrolment_id"] == oral and cancelled["key"] == str(candidate.registration_id)


async def test_n8_written_cannot_be_cancelled_while_its_oral_stands(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    written = (await candidate.written("1")).json()["enrolment_ids"][0]
    await candidate.oral(await world.offering("991010", "F"))
    refused = await candidate.cancel(written)
    assert refused.status_code == 409 and world.code(refused) == "oral_depends_on_written"


async def test_n8_paid_subjects_can_never_be_cancelled(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    written = (await candidate.written("1")).json()["enrolment_ids"]
    await _pay(world, candidate, written)
    refused = await candidate.cancel(written[0])
    assert refused.status_code == 409 and world.code(refused) == "paid_not_cancellable"
    assert refused.json()["title"] == "已支付科目不可取消报考"


async def test_n8_locked_for_collective_payment_cannot_be_cancelled(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    other_school = await world.bind(school="99301", campus="993010")
    mine = (await candidate.written("1")).json()["enrolment_ids"][0]
    theirs = (await other_school.written("1")).json()["enrolment_ids"][0]
    teacher = world.tokens.headers(None, "teacher", school_code="99101")

    listed = (await world.client.get("/teacher/unpaid-subjects", headers=teacher)).json()
    assert [row["id"] for row in listed] == [mine]
    locked = await world.client.put("/teacher/collective-lock", json={"enrolment_ids": [mine, theirs], "locked": True}, headers=teacher)
    assert locked.json() == {"changed": 1}  # only the teacher's own school
    refused = await candidate.cancel(mine)
    assert refused.status_code == 409 and world.code(refused) == "locked_for_collective_payment"
    assert (await candidate.page())["written"]["rows"][0]["cancellable"] is False
    assert (await other_school.cancel(theirs)).status_code == 204

    await world.client.put("/teacher/collective-lock", json={"enrolment_ids": [mine], "locked": False}, headers=teacher)
    assert (await candidate.cancel(mine)).status_code == 204
    candidate_token = await world.client.put("/teacher/collective-lock", json={"enrolment_ids": [mine], "locked": True}, headers=candidate.headers)
    assert candidate_token.status_code == 403


async def test_n8_cancel_outside_the_window_is_refused(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    written = (await candidate.written("1")).json()["enrolment_ids"][0]
    world.ctx.clock.advance(timedelta(days=10, minutes=1))
    refused = await candidate.cancel(written)
    assert refused.status_code == 409 and world.code(refused) == "registration_closed"


async def test_n8_unpaid_subjects_expire_after_24h_and_seats_return(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")
    candidate = await world.bind(school="99301", campus="993010")
    written = (await candidate.written("1")).json()["enrolment_ids"][0]
    world.ctx.clock.advance(timedelta(hours=1))
    oral = (await candidate.oral(offering)).json()["enrolment_ids"][0]

    world.ctx.clock.advance(timedelta(hours=22, minutes=59))  # 23:59 after the written one
    assert await world.expire_due() == 0
    world.ctx.clock.advance(timedelta(minutes=1))
    assert await world.expire_due() == 1  # the written subject, enrolled an hour earlier
    world.ctx.clock.advance(timedelta(hours=1))
    assert await world.expire_due() == 1
    assert {e["enrolment_id"] for e in await world.outbox("SubjectExpired")} == {written, oral}
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 2
    page = await candidate.page()
    assert page["written"]["rows"] == [] and page["oral"]["rows"] == []


async def test_n8_expiry_is_exactly_once_with_several_sweepers(world, settings, clock) -> None:
    """Four sweepers (each its own engine, as separate worker processes would be) race over the
    same due subjects: every subject expires once, every seat returns once."""
    from enrolment.bootstrap import bootstrap

    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats
    candidates = [await world.bind() for _ in range(10)]
    for candidate in candidates:
        await candidate.written("1")
        await candidate.oral(offering)
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0
    clock.advance(timedelta(hours=25))
    workers = [bootstrap(settings.model_copy(update={"expiry_batch_size": 3}), clock=clock) for _ in range(4)]
    try:
        total = 0
        while True:
            done = await asyncio.gather(*(world.expire_due(w) for w in workers))
            total += sum(done)
            if not any(done):
                break
    finally:
        for w in workers:
            await w.close()
    assert total == 20
    assert len(await world.outbox("SubjectExpired")) == 20
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 10
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE status = 'expired'") == 20


async def test_n8_expired_seat_goes_to_the_waiting_list_n14(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")
    holders = [await world.bind(school="99301", campus="993010") for _ in range(2)]
    waiting = await world.bind(school="99301", campus="993010")
    for candidate in (*holders, waiting):
        await candidate.written("1")
    for candidate in holders:
        await candidate.oral(offering)
    world.ctx.clock.advance(timedelta(hours=2))
    # the waiting candidate's written subject must outlive the holders' orals: pay it.
    written = (await waiting.page())["written"]["rows"][0]["enrolment_id"]
    await _pay(world, waiting, [written])
    assert (await world.client.post("/me/waitlist", json={"offering_id": str(offering)}, headers=waiting.headers)).status_code == 201
    world.ctx.clock.advance(timedelta(hours=23))
    assert await world.expire_due() == 4  # the holders' written and oral subjects
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 1
    [row] = (await waiting.page())["oral"]["rows"]
    assert row["payment_status"] == "未支付"
