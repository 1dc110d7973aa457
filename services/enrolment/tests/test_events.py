"""Events in: registrations (bound, qualification granted, rebound, released) and payments
(confirmed, late → Y4, refund completed), applied once through the consumer's inbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

from cet_shared.events.contracts import PaymentConfirmed, QualificationGranted, RefundCompleted, RegistrationRebound, RegistrationReleased


def payment(candidate, enrolment_ids, *, amount, order_id=None, now) -> PaymentConfirmed:
    return PaymentConfirmed(
        order_id=order_id or uuid.uuid4(),
        registration_id=candidate.registration_id,
        passport_id=candidate.passport_id,
        enrolment_ids=enrolment_ids,
        amount_fen=amount,
        gateway="payease",
        gateway_transaction_id=uuid.uuid4().hex,
        paid_at=now,
    )


async def test_y3_payment_confirmed_marks_subjects_paid_once(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    ids = (await candidate.written("1", "4")).json()["enrolment_ids"]
    envelope = await world.deliver(payment(candidate, ids, amount=2, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    await world.redeliver(envelope)  # Kafka redelivery: the inbox drops it
    paid = await world.outbox("SubjectPaid")
    assert sorted(e["enrolment_id"] for e in paid) == sorted(ids)
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE status = 'paid'") == 2
    assert await world.outbox("RefundRequired") == []


async def test_y4_late_payment_retakes_a_free_seat(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")
    candidate = await world.bind(school="99301", campus="993010")
    written = (await candidate.written("1")).json()["enrolment_ids"]
    oral = (await candidate.oral(offering)).json()["enrolment_ids"]
    world.ctx.clock.advance(timedelta(hours=25))
    assert await world.expire_due() == 2
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 2

    await world.deliver(payment(candidate, oral + written, amount=2, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE status = 'paid' AND seat_held") == 2
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 1
    assert len(await world.outbox("SubjectPaid")) == 2
    assert await world.outbox("RefundRequired") == []


async def test_y4_late_payment_without_a_seat_is_refunded(world) -> None:
    await world.open_session()
    offering = await world.offering("993010", "F")  # 2 seats
    late = await world.bind(school="99301", campus="993010")
    others = [await world.bind(school="99301", campus="993010") for _ in range(2)]
    written = (await late.written("1")).json()["enrolment_ids"]
    oral = (await late.oral(offering)).json()["enrolment_ids"]
    await world.deliver(payment(late, written, amount=1, now=world.ctx.clock.now()), key=str(late.registration_id))
    world.ctx.clock.advance(timedelta(hours=25))
    assert await world.expire_due() == 1  # the oral; the written one is paid
    for other in others:  # the freed seat and the last one are taken meanwhile
        await other.written("1")
        assert (await other.oral(offering)).status_code == 201

    order_id = uuid.uuid4()
    await world.deliver(payment(late, oral, amount=1, order_id=order_id, now=world.ctx.clock.now()), key=str(late.registration_id))
    [refund] = await world.outbox("RefundRequired")
    assert refund["order_id"] == str(order_id) and refund["enrolment_ids"] == oral
    assert refund["amount_fen"] == 1 and refund["reason"] == "late_payment_no_seat"
    assert await world.scalar("SELECT status FROM enrolments WHERE id = :id", id=uuid.UUID(oral[0])) == "expired"
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE offering_id = :id AND seat_held", id=offering) == 2
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 0

    await world.deliver(
        RefundCompleted(
            order_id=order_id, registration_id=late.registration_id, enrolment_ids=[uuid.UUID(oral[0])], amount_fen=1, refunded_at=world.ctx.clock.now()
        ),
        key=str(late.registration_id),
    )
    assert await world.scalar("SELECT completed_amount_fen FROM refunds WHERE order_id = :id", id=order_id) == 1


async def test_y4_cancelled_subject_paid_later_retakes_or_refunds(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    first = (await candidate.written("1")).json()["enrolment_ids"]
    assert (await candidate.cancel(first[0])).status_code == 204
    second = (await candidate.written("3")).json()["enrolment_ids"]  # the level is taken again
    await world.deliver(payment(candidate, first, amount=1, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    [refund] = await world.outbox("RefundRequired")
    assert refund["enrolment_ids"] == first and refund["reason"] == "late_payment_no_seat"
    assert await world.scalar("SELECT status FROM enrolments WHERE id = :id", id=uuid.UUID(second[0])) == "held"


async def test_y4_unknown_or_foreign_enrolments_are_refunded_never_kept(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    stranger = await world.bind()
    theirs = (await stranger.written("1")).json()["enrolment_ids"]
    unknown = str(uuid.uuid4())
    await world.deliver(payment(candidate, [unknown, *theirs], amount=2, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    [refund] = await world.outbox("RefundRequired")
    assert refund["amount_fen"] == 2 and refund["reason"] == "subject_not_payable"
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE status = 'paid'") == 0


async def test_y4_a_subject_paid_twice_refunds_the_second_order(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    ids = (await candidate.written("1")).json()["enrolment_ids"]
    await world.deliver(payment(candidate, ids, amount=1, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    await world.deliver(payment(candidate, ids, amount=1, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    [refund] = await world.outbox("RefundRequired")
    assert refund["amount_fen"] == 1
    assert len(await world.outbox("SubjectPaid")) == 1


async def test_e9_released_registration_cancels_unpaid_subjects_and_refuses_new_ones(world) -> None:
    await world.open_session()
    offering = await world.offering("991010", "F")
    candidate = await world.bind()
    written = (await candidate.written("1")).json()["enrolment_ids"]
    oral = (await candidate.oral(offering)).json()["enrolment_ids"]
    envelope = await world.deliver(
        RegistrationReleased(registration_id=candidate.registration_id, passport_id=candidate.passport_id), key=str(candidate.registration_id)
    )
    await world.redeliver(envelope)
    assert sorted(e["enrolment_id"] for e in await world.outbox("SubjectCancelled")) == sorted(written + oral)
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) == 10  # returned once
    refused = await candidate.written("3")
    assert refused.status_code == 409 and world.code(refused) == "registration_released"
    # A payment for them arriving later is refunded.
    await world.deliver(payment(candidate, written + oral, amount=2, now=world.ctx.clock.now()), key=str(candidate.registration_id))
    [refund] = await world.outbox("RefundRequired")
    assert refund["amount_fen"] == 2 and sorted(refund["enrolment_ids"]) == sorted(written + oral)
    assert await world.scalar("SELECT count(*) FROM enrolments WHERE status = 'paid'") == 0


async def test_e10_qualification_granted_opens_cet6(world) -> None:
    await world.open_session()
    candidate = await world.bind(qualifications=("英语四级笔试", "英语四级口试"))
    assert world.code(await candidate.written("2")) == "not_qualified"
    await world.deliver(
        QualificationGranted(registration_id=candidate.registration_id, subject_codes=["2", "S"], reason="cet6_review_rule1"),
        key=str(candidate.registration_id),
    )
    assert (await candidate.written("2")).status_code == 201
    assert (await candidate.oral(await world.offering("991010", "S"))).status_code == 201
    codes = [q["code"] for q in (await candidate.page())["qualification_subjects"]]
    assert codes == ["1", "F", "2", "S"]


async def test_e12_rebound_registration_follows_the_new_passport(world) -> None:
    await world.open_session()
    candidate = await world.bind()
    ids = (await candidate.written("1")).json()["enrolment_ids"]
    new_passport = uuid.uuid4().hex.upper()
    await world.deliver(
        RegistrationRebound(registration_id=candidate.registration_id, old_passport_id=candidate.passport_id, new_passport_id=new_passport),
        key=str(candidate.registration_id),
    )
    old = await world.client.get("/me/registration", headers=candidate.headers)
    assert old.status_code == 404 and world.code(old) == "registration_not_found"
    page = await world.client.get("/me/registration", headers=world.tokens.headers(new_passport, "candidate"))
    assert [r["enrolment_id"] for r in page.json()["written"]["rows"]] == ids
