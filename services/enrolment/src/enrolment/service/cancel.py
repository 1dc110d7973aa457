"""N8: cancelling an unpaid subject; its seat returns through the seat primitive (to the first
in line, N14)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from cet_shared.clock import Clock
from cet_shared.events.contracts import SubjectCancelled
from cet_shared.problems import Problem
from enrolment.db.context import load_context
from enrolment.db.tables import enrolments
from enrolment.domain.refusals import Refusal
from enrolment.domain.rules import check_registration_window
from enrolment.service import seats
from enrolment.service.problems import enrolment_not_found, problem, registration_not_found
from enrolment.service.units import UnitFactory
from enrolment.service.waitlist import return_seat


async def cancel(units: UnitFactory, clock: Clock, lifetime: timedelta, passport_id: str, enrolment_id: uuid.UUID) -> None:
    """An unpaid subject may be cancelled inside the window unless the school locked it for
    collective payment; a paid one never; a written one not while its oral stands (N6)."""
    now = clock.now()
    async with units() as uow:
        session = uow.session
        context = await load_context(session, passport_id=passport_id, lock=True)
        if context is None:
            raise registration_not_found()
        row = (
            await session.execute(
                select(enrolments.c.status, enrolments.c.locked, enrolments.c.kind, enrolments.c.level).where(
                    enrolments.c.id == enrolment_id, enrolments.c.registration_id == context.registration_id
                )
            )
        ).first()
        if row is None or row.status in ("cancelled", "expired"):
            raise enrolment_not_found()
        if row.status == "paid":
            raise Problem(409, "paid_not_cancellable", "已支付科目不可取消报考")
        if row.locked:
            raise Problem(409, "locked_for_collective_payment", "该科目已被学校集体缴费锁定，无法取消，请联系学校老师")
        try:
            check_registration_window(now, context.registration_opens_at, context.registration_closes_at)
        except Refusal as refusal:
            raise problem(refusal) from None
        if row.kind == "written" and any(a.kind == "oral" and a.level == row.level for a in context.active):
            raise Problem(409, "oral_depends_on_written", "请先取消同级别口试科目，再取消笔试科目")
        ended = await seats.end_hold(session, enrolment_id, "cancelled", now=now)
        if ended is None:  # cannot happen under the registration lock, but never return a seat twice
            raise enrolment_not_found()
        await uow.publish(SubjectCancelled(enrolment_id=enrolment_id, registration_id=context.registration_id), key=str(context.registration_id))
        await return_seat(uow, ended.offering_id, now=now, lifetime=lifetime)
        await uow.commit()
