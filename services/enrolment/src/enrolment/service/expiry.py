"""N8, the 24 h clock: unpaid subjects past their deadline expire and their seats return.

Safe with any number of workers: each takes the registrations it can lock (SKIP LOCKED) and the
held → expired transition happens once per row whoever runs it."""

from __future__ import annotations

from sqlalchemy import select, update

from cet_shared.events.contracts import SubjectExpired
from enrolment.bootstrap import Enrolment
from enrolment.db.tables import enrolments, registrations
from enrolment.service.seats import return_seat


async def expire_due(ctx: Enrolment) -> int:
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        due = (
            select(enrolments.c.registration_id)
            .where(enrolments.c.status == "held", enrolments.c.expires_at <= now)
            .limit(ctx.settings.expiry_batch_size)
            .scalar_subquery()
        )
        locked = (
            await session.execute(
                select(registrations.c.registration_id)
                .where(registrations.c.registration_id.in_(due))
                .order_by(registrations.c.registration_id)
                .with_for_update(skip_locked=True)
            )
        ).scalars().all()
        if not locked:
            return 0
        expired = (
            await session.execute(
                update(enrolments)
                .where(enrolments.c.registration_id.in_(locked), enrolments.c.status == "held", enrolments.c.expires_at <= now)
                .values(status="expired", seat_held=False, ended_at=now)
                .returning(enrolments.c.id, enrolments.c.registration_id, enrolments.c.offering_id)
            )
        ).all()
        # Offerings in one order in every sweeper: two sweepers never wait on each other in a cycle.
        for row in sorted(expired, key=lambda r: (str(r.offering_id), str(r.id))):
            await uow.publish(SubjectExpired(enrolment_id=row.id, registration_id=row.registration_id), key=str(row.registration_id))
            await return_seat(uow, row.offering_id, now=now, lifetime=ctx.settings.unpaid_lifetime)
        await uow.commit()
    return len(expired)
