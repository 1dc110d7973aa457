"""Handlers of eligibility's and payment's events. Each runs inside the consumer's unit of work
(the inbox row commits with the change), under the registration's row lock."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from cet_shared import audit
from cet_shared.clock import Clock
from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import (
    PaidSubject,
    PaymentAllocated,
    PaymentConfirmed,
    QualificationGranted,
    RefundCompleted,
    RefundFailed,
    RefundRequired,
    RegistrationBound,
    RegistrationRebound,
    RegistrationReleased,
    SubjectCancelled,
    SubjectPaid,
)
from enrolment.db.tables import enrolments, offerings, payments, refunds, registrations, waitlist
from enrolment.domain.subjects import SUBJECTS, normalise_codes
from enrolment.service import seats
from enrolment.service.waitlist import return_seat


async def _lock(uow: UnitOfWork, registration_id: uuid.UUID) -> dict | None:
    row = (await uow.session.execute(select(registrations).where(registrations.c.registration_id == registration_id).with_for_update())).mappings().first()
    return dict(row) if row else None


async def on_registration_bound(uow: UnitOfWork, event: RegistrationBound) -> None:
    snapshot = event.snapshot
    await uow.session.execute(
        insert(registrations)
        .values(
            registration_id=event.registration_id,
            exam_session_id=event.exam_session_id,
            passport_id=event.passport_id,
            snapshot=snapshot.model_dump(mode="json"),
            province_code=snapshot.province_code,
            school_code=snapshot.school_code,
            campus_code=snapshot.campus_code,
            qualification_subjects=normalise_codes(snapshot.qualification_subjects),
            bound_at=event.bound_at,
        )
        .on_conflict_do_nothing(index_elements=["registration_id"])
    )


async def on_qualification_granted(uow: UnitOfWork, event: QualificationGranted) -> None:
    registration = await _lock(uow, event.registration_id)
    if registration is None:
        raise LookupError(f"QualificationGranted before RegistrationBound for {event.registration_id}")
    codes = normalise_codes(registration["qualification_subjects"] + normalise_codes(event.subject_codes))
    await uow.session.execute(update(registrations).where(registrations.c.registration_id == event.registration_id).values(qualification_subjects=codes))


async def on_registration_rebound(uow: UnitOfWork, event: RegistrationRebound) -> None:
    """E12: the registration (and its subjects) now belong to the new passport account."""
    registration = await _lock(uow, event.registration_id)
    if registration is None:
        raise LookupError(f"RegistrationRebound before RegistrationBound for {event.registration_id}")
    await uow.session.execute(update(registrations).where(registrations.c.registration_id == event.registration_id).values(passport_id=event.new_passport_id))


async def on_registration_released(clock: Clock, lifetime: timedelta, uow: UnitOfWork, event: RegistrationReleased) -> None:
    """E9: cancel every unpaid subject (seats return, SubjectCancelled), leave every waiting
    list, and refuse new enrolments from now on."""
    now = clock.now()
    registration = await _lock(uow, event.registration_id)
    if registration is None:
        return  # never bound here: nothing to release
    session = uow.session
    await session.execute(update(registrations).where(registrations.c.registration_id == event.registration_id).values(released_at=now))
    held = (
        await session.execute(
            select(enrolments.c.id, enrolments.c.offering_id)
            .where(enrolments.c.registration_id == event.registration_id, enrolments.c.status == "held")
            .order_by(enrolments.c.offering_id)
        )
    ).all()
    for row in held:
        if await seats.end_hold(session, row.id, "cancelled", now=now):
            await uow.publish(SubjectCancelled(enrolment_id=row.id, registration_id=event.registration_id), key=str(event.registration_id))
            await return_seat(uow, row.offering_id, now=now, lifetime=lifetime)
    await session.execute(
        update(waitlist).where(waitlist.c.registration_id == event.registration_id, waitlist.c.status == "waiting").values(status="left", ended_at=now)
    )


async def on_payment_confirmed(clock: Clock, uow: UnitOfWork, event: PaymentConfirmed) -> None:
    """Subjects become paid (SubjectPaid). Y4: a subject that expired or was cancelled meanwhile
    takes a seat again when one is free; whatever cannot be honoured is refunded (RefundRequired).
    Never a paid subject without a seat, never money kept without a subject."""
    now = clock.now()
    session = uow.session
    key = str(event.registration_id)
    await session.execute(
        insert(payments)
        .values(
            order_id=event.order_id,
            registration_id=event.registration_id,
            enrolment_ids=list(event.enrolment_ids),
            amount_fen=event.amount_fen,
            paid_at=event.paid_at,
            recorded_at=now,
        )
        .on_conflict_do_nothing()
    )
    registration = await _lock(uow, event.registration_id)
    rows = {
        row["id"]: dict(row)
        for row in (
            await session.execute(
                select(enrolments, offerings.c.capacity)
                .join(offerings, offerings.c.id == enrolments.c.offering_id)
                .where(enrolments.c.id.in_(list(event.enrolment_ids)))
                .with_for_update(of=enrolments)
            )
        ).mappings()
    }
    # Written before oral, so a late oral can lean on its written subject being back (N6).
    ordered = sorted(event.enrolment_ids, key=lambda i: (rows[i]["kind"] != "written", str(i)) if i in rows else (True, str(i)))
    honoured_fen = 0
    honoured: list[uuid.UUID] = []
    refused: list[uuid.UUID] = []
    late = False
    for enrolment_id in ordered:
        row = rows.get(enrolment_id)
        if row is None or row["registration_id"] != event.registration_id or registration is None:
            refused.append(enrolment_id)
            continue
        if row["status"] == "paid":
            if row["order_id"] == event.order_id:
                honoured_fen += row["fee_fen"]  # already applied (e.g. a replay under a new event id)
                honoured.append(enrolment_id)
            else:
                refused.append(enrolment_id)  # paid twice through two orders
            continue
        if row["status"] == "held":
            await _mark_paid(uow, enrolment_id, event)
            honoured_fen += row["fee_fen"]
            honoured.append(enrolment_id)
            continue
        late = True
        if registration["released_at"] is None and await _retake(uow, row):
            await _mark_paid(uow, enrolment_id, event)
            honoured_fen += row["fee_fen"]
            honoured.append(enrolment_id)
        else:
            refused.append(enrolment_id)
    amount = max(0, event.amount_fen - honoured_fen) if refused else 0
    # Y6: the receipt is for what the money bought; what it could not buy gets the refund mail.
    await uow.publish(
        PaymentAllocated(
            order_id=event.order_id,
            registration_id=event.registration_id,
            passport_id=event.passport_id,
            gateway=event.gateway,
            gateway_transaction_id=event.gateway_transaction_id,
            paid_at=event.paid_at,
            amount_fen=event.amount_fen,
            honoured=_paid_subjects(event, honoured, rows),
            honoured_fen=honoured_fen,
            refused_enrolment_ids=refused,
            refund_fen=amount,
        ),
        key=key,
    )
    await audit.record(
        session,
        "payment.allocated",
        ("order", event.order_id),
        after={"honoured": honoured, "refused": refused, "late": late, "refund_fen": amount},
        candidate=event.passport_id,
        school=registration["school_code"] if registration else None,
    )
    if refused:
        reason = "late_payment_no_seat" if late else "subject_not_payable"
        await session.execute(
            insert(refunds)
            .values(
                order_id=event.order_id,
                registration_id=event.registration_id,
                enrolment_ids=refused,
                amount_fen=amount,
                reason=reason,
                requested_at=now,
            )
            .on_conflict_do_nothing()
        )
        await uow.publish(
            RefundRequired(order_id=event.order_id, registration_id=event.registration_id, enrolment_ids=refused, amount_fen=amount, reason=reason),
            key=key,
        )


def _paid_subjects(event: PaymentConfirmed, honoured: list[uuid.UUID], rows: dict) -> list[PaidSubject]:
    named = {s.enrolment_id: s for s in event.subjects}
    subjects = []
    for enrolment_id in honoured:
        if enrolment_id in named:
            subjects.append(named[enrolment_id])
        else:  # an event from before PaymentConfirmed listed its subjects
            row = rows[enrolment_id]
            subjects.append(
                PaidSubject(
                    enrolment_id=enrolment_id, subject_code=row["subject_code"], subject_name=SUBJECTS[row["subject_code"]].label, fee_fen=row["fee_fen"]
                )
            )
    return sorted(subjects, key=lambda s: s.subject_code)


async def _retake(uow: UnitOfWork, row: dict) -> bool:
    """An ended subject comes back only if nothing took its level meanwhile and a seat is free."""
    session = uow.session
    taken = await session.scalar(
        select(func.count())
        .select_from(enrolments)
        .where(
            enrolments.c.registration_id == row["registration_id"],
            enrolments.c.kind == row["kind"],
            enrolments.c.level == row["level"],
            enrolments.c.seat_held,
        )
    )
    if taken:
        return False
    return row["capacity"] is None or await seats.retake(session, row["offering_id"])


async def _mark_paid(uow: UnitOfWork, enrolment_id: uuid.UUID, event: PaymentConfirmed) -> None:
    await seats.mark_paid(uow.session, enrolment_id, paid_at=event.paid_at, order_id=event.order_id)
    await uow.publish(SubjectPaid(enrolment_id=enrolment_id, registration_id=event.registration_id, order_id=event.order_id), key=str(event.registration_id))


async def on_refund_completed(uow: UnitOfWork, event: RefundCompleted) -> None:
    await uow.session.execute(
        insert(refunds)
        .values(
            order_id=event.order_id,
            registration_id=event.registration_id,
            enrolment_ids=list(event.enrolment_ids),
            amount_fen=event.amount_fen,
            reason="refunded_by_payment",
            requested_at=event.refunded_at,
            completed_at=event.refunded_at,
            completed_amount_fen=event.amount_fen,
        )
        .on_conflict_do_update(
            index_elements=["order_id"], set_={"completed_at": event.refunded_at, "completed_amount_fen": event.amount_fen, "failed_at": None}
        )
    )


async def on_refund_failed(uow: UnitOfWork, event: RefundFailed) -> None:
    """The registration info page shows 退款失败 for these subjects until support settles it."""
    await uow.session.execute(
        insert(refunds)
        .values(
            order_id=event.order_id,
            registration_id=event.registration_id,
            enrolment_ids=list(event.enrolment_ids),
            amount_fen=event.amount_fen,
            reason=event.reason or "refunded_by_payment",
            requested_at=event.failed_at,
            failed_at=event.failed_at,
        )
        .on_conflict_do_update(index_elements=["order_id"], set_={"failed_at": event.failed_at}, where=refunds.c.completed_at.is_(None))
    )
