"""THE seat primitive (N11, N14): every path that takes or returns a seat goes through here —
written and oral enrolment, a late payment re-taking its seat, the waiting list's promotion,
cancellation, expiry and capacity changes. No other code writes `offerings.remaining` or an
enrolment's `seat_held`; the counting itself is the database functions of migrations 0006 and
sh01 (`take_seats()` is the only decrement), and `db.hold_batches` only sends this module's hold
entries to `hold_seats_batch()`.

- A hold: `hold_seats_batch()` (migration sh01) locks the registrations, re-reads each one's
  `candidate_context()` and goes on only if it is exactly what the rules were checked against,
  gives the seats in arrival order, inserts the enrolments and their outbox rows and takes the
  seats (`take_seats()`: `remaining >= n`, in offering id order). A click's hold (`hold_entry`)
  goes in a batch of the concurrent clicks of its campus (`db.hold_batches`, group commit): one
  statement and one commit for the batch, so the offering's row lock lives only as long as that
  commit; inside a unit of work (`hold_in`, `hold_seats()`: a batch of one) it commits with the
  rest of the unit.
- A seat comes back only through the enrolment's own `held → cancelled|expired` transition, which
  one transaction wins (`end_hold`, `expire_due_holds`), and then goes to the first in line
  (`service.waitlist`) or back to the pool (`return_seat_to_pool()`), exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentelemetry import propagate
from sqlalchemy import and_, bindparam, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import SubjectEnrolled
from cet_shared.events.envelope import EventEnvelope
from enrolment.db.tables import enrolments
from enrolment.domain.context import CandidateContext, Offering
from enrolment.service.full_campuses import MEMORY

PRODUCER = "enrolment"
SEATS_GONE = "CE409"  # raised by take_seats(): no seat left

_HOLD_IN = text("SELECT hold_seats(:registration_id, :fingerprint, :enrolments, '[]'::jsonb, :from_pool)").bindparams(bindparam("enrolments", type_=JSONB))
_TAKE = text("SELECT take_seats(ARRAY[CAST(:offering_id AS uuid)])")
_RETURN = text("SELECT return_seat_to_pool(:offering_id)")
_RESIZE = text("SELECT new_capacity, new_remaining FROM resize_offering(:offering_id, :capacity)")


class SeatsGone(Exception):
    """No seat left at one of the offerings of a hold (N11: seats_full)."""


class ContextChanged(Exception):
    """The candidate's context changed between the read and the lock: read and check again."""


@dataclass(frozen=True)
class Hold:
    """One enrolment to create, holding a seat of its offering until paid or ended."""

    enrolment_id: uuid.UUID
    offering: Offering
    enrolled_at: datetime
    expires_at: datetime
    method: str = "candidate"

    def row(self, context: CandidateContext) -> dict[str, Any]:
        subject = self.offering.subject
        return {
            "id": str(self.enrolment_id),
            "registration_id": str(context.registration_id),
            "exam_session_id": str(self.offering.exam_session_id),
            "offering_id": str(self.offering.id),
            "subject_code": subject.code,
            "kind": subject.kind,
            "level": subject.level,
            "fee_fen": self.offering.fee_fen,
            "method": self.method,
            "enrolled_at": self.enrolled_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }

    def event(self, context: CandidateContext) -> SubjectEnrolled:
        subject = self.offering.subject
        return SubjectEnrolled(
            enrolment_id=self.enrolment_id,
            registration_id=context.registration_id,
            passport_id=context.passport_id,
            subject_code=subject.code,
            subject_name=subject.label,
            campus_code=self.offering.campus_code,
            fee_fen=self.offering.fee_fen or 0,
            expires_at=self.expires_at,
        )


def new_holds(offerings: Sequence[Offering], *, now: datetime, expires_at: datetime, method: str = "candidate") -> list[Hold]:
    return [Hold(uuid.uuid4(), offering, now, expires_at, method) for offering in offerings]


def _outbox_row(context: CandidateContext, hold: Hold) -> dict[str, Any]:
    """The outbox row as cet_shared.outbox.enqueue writes it (envelope, W3C trace context)."""
    event = hold.event(context)
    key = str(context.registration_id)
    envelope = EventEnvelope.wrap(event, key=key, producer=PRODUCER)
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return {
        "event_id": str(envelope.event_id),
        "topic": event.topic,
        "key": key,
        "event_type": event.event_type,
        "envelope": envelope.model_dump(mode="json"),
        "headers": headers,
    }


HELD, FULL, CHANGED = "held", "full", "changed"  # a hold's outcome in hold_seats_batch() (migration sh01)


def hold_entry(context: CandidateContext, holds: Sequence[Hold]) -> dict[str, Any]:
    """One click's holds as one entry of a batch: its enrolments, their outbox rows (built here,
    in the request's trace context) and the fingerprint its rules were checked against."""
    return {
        "registration_id": str(context.registration_id),
        "fingerprint": context.fingerprint,
        "enrolments": [hold.row(context) for hold in holds],
        "outbox": [_outbox_row(context, hold) for hold in holds],
        "from_pool": True,
    }


def raise_for(outcome: str) -> None:
    """A batch's answer for one click: nothing when held, else why nothing was written."""
    if outcome == FULL:
        raise SeatsGone
    if outcome == CHANGED:
        raise ContextChanged
    if outcome != HELD:
        raise AssertionError(f"unknown hold outcome {outcome!r}")


def _sqlstate(error: BaseException) -> str | None:
    driver_error = getattr(error, "orig", error)
    driver_error = getattr(driver_error, "driver_exception", driver_error)
    return getattr(driver_error, "sqlstate", None)


async def hold_in(uow: UnitOfWork, context: CandidateContext, hold: Hold, *, from_pool: bool) -> None:
    """A hold inside a unit of work that already holds the registration's lock (the waiting
    list's promotion). `from_pool=False`: the seat is the one its predecessor just freed."""
    await uow.publish(hold.event(context), key=str(context.registration_id))
    taken = (
        await uow.session.execute(
            _HOLD_IN,
            {"registration_id": context.registration_id, "fingerprint": context.fingerprint, "enrolments": [hold.row(context)], "from_pool": from_pool},
        )
    ).scalar()
    if not taken:  # cannot happen under the registration's lock; never hold on a stale check
        raise ContextChanged


async def retake(session: AsyncSession, offering_id: uuid.UUID) -> bool:
    """A late payment's seat (Y4): one more seat of the offering if one is free, else False."""
    try:
        async with session.begin_nested():
            await session.execute(_TAKE, {"offering_id": offering_id})
    except DBAPIError as error:
        if _sqlstate(error) == SEATS_GONE:
            return False
        raise
    return True


async def return_to_pool(session: AsyncSession, offering_id: uuid.UUID) -> None:
    await session.execute(_RETURN, {"offering_id": offering_id})
    MEMORY.seat_back(offering_id)  # this process at once; the other replicas by NOTIFY at commit


async def resize(session: AsyncSession, offering_id: uuid.UUID, capacity: int) -> tuple[int, int] | None:
    """N11 live: the new capacity moves `remaining` by the same amount, or None when it would
    fall below the seats already held (or the offering is unlimited or unknown)."""
    row = (await session.execute(_RESIZE, {"offering_id": offering_id, "capacity": capacity})).first()
    MEMORY.seat_back(offering_id)
    return (row.new_capacity, row.new_remaining) if row is not None else None


@dataclass(frozen=True)
class EndedHold:
    enrolment_id: uuid.UUID
    registration_id: uuid.UUID
    offering_id: uuid.UUID


async def end_hold(session: AsyncSession, enrolment_id: uuid.UUID, status: str, *, now: datetime) -> EndedHold | None:
    """held → cancelled|expired, once: the winner gets the row back and must return its seat."""
    row = (
        await session.execute(
            update(enrolments)
            .where(and_(enrolments.c.id == enrolment_id, enrolments.c.status == "held"))
            .values(status=status, seat_held=False, ended_at=now)
            .returning(enrolments.c.id, enrolments.c.registration_id, enrolments.c.offering_id)
        )
    ).first()
    return EndedHold(row.id, row.registration_id, row.offering_id) if row else None


async def expire_due_holds(session: AsyncSession, registration_ids: Sequence[uuid.UUID], *, now: datetime) -> list[EndedHold]:
    rows = (
        await session.execute(
            update(enrolments)
            .where(enrolments.c.registration_id.in_(list(registration_ids)), enrolments.c.status == "held", enrolments.c.expires_at <= now)
            .values(status="expired", seat_held=False, ended_at=now)
            .returning(enrolments.c.id, enrolments.c.registration_id, enrolments.c.offering_id)
        )
    ).all()
    return [EndedHold(row.id, row.registration_id, row.offering_id) for row in rows]


async def mark_paid(session: AsyncSession, enrolment_id: uuid.UUID, *, paid_at: datetime, order_id: uuid.UUID) -> None:
    """The subject is paid and keeps (or, re-taken, has again) its seat."""
    await session.execute(
        update(enrolments).where(enrolments.c.id == enrolment_id).values(status="paid", seat_held=True, paid_at=paid_at, order_id=order_id, ended_at=None)
    )
