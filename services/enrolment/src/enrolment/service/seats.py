"""Seats (N11) and the waiting list (N14): the only code that moves `offerings.remaining`.

A seat is taken by one conditional UPDATE (`remaining > 0`) in the transaction that inserts the
enrolment (for candidates, inside its COMMIT: `claim_seat`, or the last statement of `take_oral_hold()` for orals), so the database row lock decides
every race, across any number of api replicas. A seat
comes back only through the enrolment row's own `status = 'held'` → ended transition, which one
transaction wins: the seat returns exactly once, either to the pool or to the first in line.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import SubjectEnrolled
from enrolment.db.tables import enrolments, offerings, registrations, seat_claims, waitlist
from enrolment.domain.subjects import ORAL_WRITTEN, SUBJECTS

_TAKE = text("UPDATE offerings SET remaining = remaining - 1 WHERE id = :id AND remaining > 0 RETURNING remaining")
_GIVE_BACK = text("UPDATE offerings SET remaining = remaining + 1 WHERE id = :id AND remaining < capacity RETURNING remaining")


async def take_seat(session: AsyncSession, offering_id: uuid.UUID, limited: bool) -> bool:
    """One seat of a limited offering, or False when none is left. Unlimited offerings always have one."""
    if not limited:
        return True
    return (await session.execute(_TAKE, {"id": offering_id})).first() is not None


async def claim_seat(session: AsyncSession, enrolment_id: uuid.UUID, offering_id: uuid.UUID) -> None:
    """The candidates' path: the same conditional UPDATE, run by a deferred constraint trigger
    inside COMMIT (migration 0002). The offering's row lock then lives only as long as the commit,
    as in a single autocommit statement, instead of across a round trip to a busy api process.
    COMMIT fails with SQLSTATE CE409 when no seat is left (`seat_refused`)."""
    await session.execute(insert(seat_claims).values(enrolment_id=enrolment_id, offering_id=offering_id))


async def claim_seats(session: AsyncSession, claims: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Several seats (offering id, enrolment id) in one unit: claimed in offering id order, the
    same for every candidate, so the COMMITs of [1, 2] and [2, 1] never wait on each other in a
    cycle (the trigger fires in insertion order)."""
    for offering_id, enrolment_id in sorted(claims, key=lambda claim: str(claim[0])):
        await claim_seat(session, enrolment_id, offering_id)


def seat_refused(error: DBAPIError) -> bool:
    driver_error = getattr(error.orig, "driver_exception", error.orig)
    return getattr(driver_error, "sqlstate", None) == "CE409"


async def active_codes(session: AsyncSession, registration_id: uuid.UUID) -> list[tuple[str, str, int]]:
    rows = await session.execute(
        select(enrolments.c.subject_code, enrolments.c.kind, enrolments.c.level).where(
            enrolments.c.registration_id == registration_id, enrolments.c.seat_held
        )
    )
    return [tuple(row) for row in rows]


async def insert_hold(
    uow: UnitOfWork,
    *,
    registration: dict,
    offering: dict,
    now: datetime,
    expires_at: datetime,
    method: str = "candidate",
) -> uuid.UUID:
    """The enrolment row and its SubjectEnrolled event; the caller has already taken the seat."""
    subject = SUBJECTS[offering["subject_code"]]
    enrolment_id = uuid.uuid4()
    await uow.session.execute(
        insert(enrolments).values(
            id=enrolment_id,
            registration_id=registration["registration_id"],
            exam_session_id=offering["exam_session_id"],
            offering_id=offering["id"],
            subject_code=subject.code,
            kind=subject.kind,
            level=subject.level,
            fee_fen=offering["fee_fen"],
            status="held",
            seat_held=True,
            method=method,
            enrolled_at=now,
            expires_at=expires_at,
        )
    )
    await uow.publish(
        SubjectEnrolled(
            enrolment_id=enrolment_id,
            registration_id=registration["registration_id"],
            passport_id=registration["passport_id"],
            subject_code=subject.code,
            subject_name=subject.label,
            campus_code=offering["campus_code"],
            fee_fen=offering["fee_fen"],
            expires_at=expires_at,
        ),
        key=str(registration["registration_id"]),
    )
    return enrolment_id


async def return_seat(uow: UnitOfWork, offering_id: uuid.UUID, *, now: datetime, lifetime) -> uuid.UUID | None:  # noqa: ANN001
    """A seat of this offering was freed: the first candidate in line who still qualifies gets it
    (N14) with the normal payment time; otherwise it goes back to the pool. Returns the new hold."""
    session = uow.session
    offering = (await session.execute(select(offerings).where(offerings.c.id == offering_id))).mappings().one()
    if offering["capacity"] is None:
        return None
    if offering["closes_at"] is None or now < offering["closes_at"]:
        promoted = await _promote_first_waiting(uow, offering, now=now, expires_at=now + lifetime)
        if promoted is not None:
            return promoted
    await session.execute(_GIVE_BACK, {"id": offering_id})
    return None


async def offer_free_seats_to_waitlist(uow: UnitOfWork, offering_id: uuid.UUID, *, now: datetime, lifetime) -> int:  # noqa: ANN001
    """After capacity was raised (N11 live): free seats go to the waiting list first (N14)."""
    session = uow.session
    promoted = 0
    while True:
        offering = (await session.execute(select(offerings).where(offerings.c.id == offering_id).with_for_update())).mappings().one()
        if not offering["remaining"] or (offering["closes_at"] is not None and now >= offering["closes_at"]):
            return promoted
        if await _promote_first_waiting(uow, offering, now=now, expires_at=now + lifetime) is None:
            return promoted
        await session.execute(_TAKE, {"id": offering_id})  # the pool's seat is the promoted candidate's now
        promoted += 1


async def _promote_first_waiting(uow: UnitOfWork, offering, *, now: datetime, expires_at: datetime) -> uuid.UUID | None:  # noqa: ANN001
    session = uow.session
    waiting = (
        await session.execute(
            select(waitlist.c.id, waitlist.c.registration_id)
            .where(waitlist.c.offering_id == offering["id"], waitlist.c.status == "waiting")
            .order_by(waitlist.c.id)
            .with_for_update(skip_locked=True)
        )
    ).all()
    subject = SUBJECTS[offering["subject_code"]]
    for entry in waiting:
        # Never wait for another candidate's lock while holding ours: skip them this time.
        registration = (
            await session.execute(
                select(registrations).where(registrations.c.registration_id == entry.registration_id).with_for_update(skip_locked=True)
            )
        ).mappings().first()
        if registration is None:
            continue
        active = await active_codes(session, entry.registration_id)
        still_fits = (
            registration["released_at"] is None
            and any(kind == "written" and code == ORAL_WRITTEN.get(subject.code) for code, kind, _ in active)
            and not any(kind == subject.kind and level == subject.level for _, kind, level in active)
        )
        if not still_fits:
            await session.execute(update(waitlist).where(waitlist.c.id == entry.id).values(status="left", ended_at=now))
            continue
        enrolment_id = await insert_hold(uow, registration=dict(registration), offering=dict(offering), now=now, expires_at=expires_at)
        await session.execute(
            update(waitlist).where(waitlist.c.id == entry.id).values(status="promoted", enrolment_id=enrolment_id, ended_at=now)
        )
        return enrolment_id
    return None


async def end_hold(uow: UnitOfWork, enrolment_id: uuid.UUID, status: str, *, now: datetime) -> dict | None:
    """held → cancelled|expired, once: the winner gets the row back and must return its seat."""
    row = (
        await uow.session.execute(
            update(enrolments)
            .where(and_(enrolments.c.id == enrolment_id, enrolments.c.status == "held"))
            .values(status=status, seat_held=False, ended_at=now)
            .returning(enrolments.c.id, enrolments.c.registration_id, enrolments.c.offering_id)
        )
    ).mappings().first()
    return dict(row) if row else None
