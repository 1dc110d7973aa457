"""E9's timer, where the subjects live: a registration bound longer ago than the empty lifetime
with no active subject (held or paid) is closed here and eligibility is told once
(RegistrationLeftEmpty); eligibility deletes it and releases the binding (RegistrationReleased).

Enrolment decides because it owns the subjects: eligibility no longer projects every subject
change to find the empty ones. Race with a hold: every path that gives a registration a subject
(hold_seats, a late payment's re-take) takes the registration's row lock and checks `released_at`
under it. The sweep locks the rows it looks at (SKIP LOCKED: a hold in flight is looked at next
round), counts active subjects again after the lock in a fresh statement (it sees every subject
committed before the lock was ours), and sets `released_at` before it commits: a hold waiting for
the lock then finds the registration released and is refused. Safe with any number of workers.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select, update

from cet_shared.clock import Clock
from cet_shared.events.contracts import RegistrationLeftEmpty
from enrolment.db.tables import enrolments, registrations
from enrolment.service.units import UnitFactory

ACTIVE_STATUSES = ("held", "paid")


def _has_active_subject(registration_id):  # noqa: ANN001, ANN202 - a column or a value
    return exists().where(enrolments.c.registration_id == registration_id, enrolments.c.status.in_(ACTIVE_STATUSES))


async def close_empty_registrations(units: UnitFactory, clock: Clock, *, lifetime: timedelta, batch_size: int) -> int:
    now = clock.now()
    closed = 0
    async with units() as uow:
        session = uow.session
        candidates = (
            await session.execute(
                select(registrations.c.registration_id, registrations.c.passport_id, registrations.c.bound_at)
                .where(registrations.c.bound_at <= now - lifetime, registrations.c.released_at.is_(None), ~_has_active_subject(registrations.c.registration_id))
                .order_by(registrations.c.bound_at)
                .limit(batch_size)
                .with_for_update(of=registrations, skip_locked=True)
            )
        ).all()
        for row in candidates:
            if await session.scalar(select(_has_active_subject(row.registration_id))):
                continue  # a subject committed between the scan and our lock
            await session.execute(update(registrations).where(registrations.c.registration_id == row.registration_id).values(released_at=now))
            await uow.publish(
                RegistrationLeftEmpty(registration_id=row.registration_id, passport_id=row.passport_id, bound_at=row.bound_at), key=str(row.registration_id)
            )
            closed += 1
        await uow.commit()
    return closed
