"""N8, the 24 h clock: unpaid subjects past their deadline expire and their seats return.

Safe with any number of workers: each takes the registrations it can lock (SKIP LOCKED) and the
held → expired transition happens once per row whoever runs it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cet_shared.clock import Clock
from cet_shared.events.contracts import SubjectExpired
from enrolment.db.tables import enrolments, registrations
from enrolment.service import seats
from enrolment.service.units import UnitFactory
from enrolment.service.waitlist import return_seat


async def expire_due(units: UnitFactory, clock: Clock, lifetime: timedelta, batch_size: int) -> int:
    now = clock.now()
    async with units() as uow:
        session = uow.session
        due = select(enrolments.c.registration_id).where(enrolments.c.status == "held", enrolments.c.expires_at <= now).limit(batch_size).scalar_subquery()
        locked = (
            (
                await session.execute(
                    select(registrations.c.registration_id)
                    .where(registrations.c.registration_id.in_(due))
                    .order_by(registrations.c.registration_id)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not locked:
            return 0
        expired = await seats.expire_due_holds(session, locked, now=now)
        # Offerings in one order in every sweeper: two sweepers never wait on each other in a cycle.
        for row in sorted(expired, key=lambda r: (str(r.offering_id), str(r.enrolment_id))):
            await uow.publish(SubjectExpired(enrolment_id=row.enrolment_id, registration_id=row.registration_id), key=str(row.registration_id))
            await return_seat(uow, row.offering_id, now=now, lifetime=lifetime)
        await uow.commit()
    return len(expired)
