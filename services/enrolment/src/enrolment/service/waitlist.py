"""N14 候补: a full oral campus keeps a line, and a freed seat goes to the first in line.

Promotion is strictly first come, first served and runs the checks of a click: the head's
registration is locked (waiting for it if the candidate is clicking right now, never skipping
them) and `domain.rules.check_oral_hold` decides on their context as a click would; whoever no
longer qualifies leaves the line and the next one is asked. The seat moves through
`service.seats` like every other."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from cet_shared.clock import Clock
from cet_shared.db import UnitOfWork
from cet_shared.problems import Problem
from enrolment.db.context import load_context, load_offering
from enrolment.db.tables import waitlist
from enrolment.domain.context import Offering
from enrolment.domain.refusals import Refusal
from enrolment.domain.rules import check_oral_hold
from enrolment.domain.seats import freed_seat_goes_to
from enrolment.service import seats
from enrolment.service.problems import offering_not_found, refusals_as_problems, registration_not_found
from enrolment.service.units import UnitFactory


async def join_waitlist(units: UnitFactory, clock: Clock, passport_id: str, offering_id: uuid.UUID) -> int:
    """Every other N9 condition must hold already; the campus must be full."""
    now = clock.now()
    async with units() as uow:
        context = await load_context(uow.session, passport_id=passport_id, lock=True)
        if context is None:
            raise registration_not_found()
        offering = await load_offering(uow.session, offering_id)
        if offering is None or offering.subject.kind != "oral" or offering.exam_session_id != context.exam_session_id:
            raise offering_not_found()
        with refusals_as_problems():
            check_oral_hold(context, offering, now, need_seat=False)
        if offering.remaining is None or offering.remaining > 0:
            raise Problem(409, "seats_available", "该校区仍有剩余考位，请直接报考")
        try:
            async with uow.session.begin_nested():
                entry = (
                    await uow.session.execute(
                        insert(waitlist)
                        .values(offering_id=offering_id, registration_id=context.registration_id, status="waiting", joined_at=now)
                        .returning(waitlist.c.id)
                    )
                ).scalar_one()
        except IntegrityError:
            raise Problem(409, "already_waiting", "已在该校区候补队列中") from None
        await uow.commit()
    return int(entry)


async def leave_waitlist(units: UnitFactory, clock: Clock, passport_id: str, entry_id: int) -> None:
    async with units() as uow:
        context = await load_context(uow.session, passport_id=passport_id, lock=True)
        if context is None:
            raise registration_not_found()
        result = await uow.session.execute(
            update(waitlist)
            .where(waitlist.c.id == entry_id, waitlist.c.registration_id == context.registration_id, waitlist.c.status == "waiting")
            .values(status="left", ended_at=clock.now())
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise Problem(404, "waitlist_entry_not_found", "候补记录不存在")
        await uow.commit()


async def return_seat(uow: UnitOfWork, offering_id: uuid.UUID, *, now: datetime, lifetime: timedelta) -> uuid.UUID | None:
    """A seat of this offering was freed (its hold ended in this unit): the first in line who
    still qualifies gets it with the normal payment time; otherwise it goes back to the pool."""
    offering = await load_offering(uow.session, offering_id)
    if offering is None:
        return None
    goes_to = freed_seat_goes_to(offering, now)
    if goes_to == "nowhere":
        return None
    if goes_to == "waiting_list":
        promoted = await _promote_first_in_line(uow, offering, now=now, lifetime=lifetime, from_pool=False)
        if promoted is not None:
            return promoted
    await seats.return_to_pool(uow.session, offering_id)
    return None


async def offer_free_seats(uow: UnitOfWork, offering_id: uuid.UUID, *, now: datetime, lifetime: timedelta) -> int:
    """After capacity was raised (N11 live): free seats go to the waiting list first (N14)."""
    promoted = 0
    while True:
        offering = await load_offering(uow.session, offering_id, lock=True)
        if offering is None or not offering.remaining or freed_seat_goes_to(offering, now) != "waiting_list":
            return promoted
        if await _promote_first_in_line(uow, offering, now=now, lifetime=lifetime, from_pool=True) is None:
            return promoted
        promoted += 1


async def _promote_first_in_line(uow: UnitOfWork, offering: Offering, *, now: datetime, lifetime: timedelta, from_pool: bool) -> uuid.UUID | None:
    session = uow.session
    while True:
        head = (
            await session.execute(
                select(waitlist.c.id, waitlist.c.registration_id)
                .where(waitlist.c.offering_id == offering.id, waitlist.c.status == "waiting")
                .order_by(waitlist.c.id)
                .limit(1)
            )
        ).first()
        if head is None:
            return None
        # Locked by id, then read again: a concurrent promoter that took this head makes us look
        # again (FOR UPDATE with LIMIT could answer "nobody" although someone is next).
        still_waiting = await session.scalar(select(waitlist.c.id).where(waitlist.c.id == head.id, waitlist.c.status == "waiting").with_for_update())
        if still_waiting is None:
            continue
        # The head's lock, waited for: a candidate clicking now is still first in line afterwards.
        context = await load_context(session, registration_id=head.registration_id, lock=True)
        try:
            if context is None:
                raise Refusal("registration_not_found", "")
            check_oral_hold(context, offering, now, need_seat=False)
        except Refusal:
            await session.execute(update(waitlist).where(waitlist.c.id == head.id).values(status="left", ended_at=now))
            continue
        [hold] = seats.new_holds([offering], now=now, expires_at=now + lifetime)
        await seats.hold_in(uow, context, hold, from_pool=from_pool)
        await session.execute(update(waitlist).where(waitlist.c.id == head.id).values(status="promoted", enrolment_id=hold.enrolment_id, ended_at=now))
        return hold.enrolment_id
