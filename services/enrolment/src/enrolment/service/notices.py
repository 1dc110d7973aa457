"""报考须知, 省通告 and 学校通告 (N3, N10, N12): reading them, and acknowledging them (N3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import Clock
from enrolment.db.context import load_context, load_offering
from enrolment.db.tables import notices, registrations
from enrolment.service.problems import offering_not_found, registration_not_found
from enrolment.service.units import UnitFactory


async def acknowledge_notices(units: UnitFactory, clock: Clock, passport_id: str) -> datetime:
    """N3: the candidate has read 报考须知 and 省通告; written subjects can be chosen after this."""
    async with units() as uow:
        context = await load_context(uow.session, passport_id=passport_id, lock=True)
        if context is None:
            raise registration_not_found()
        now = context.notices_acknowledged_at or clock.now()
        await uow.session.execute(update(registrations).where(registrations.c.registration_id == context.registration_id).values(notices_acknowledged_at=now))
        await uow.commit()
    return now


async def school_notices(sessions: async_sessionmaker[AsyncSession], passport_id: str, offering_id: uuid.UUID) -> list[dict[str, Any]]:
    """After choosing a campus, its school notice loads (N10)."""
    async with sessions() as session:
        context = await load_context(session, passport_id=passport_id)
        if context is None:
            raise registration_not_found()
        offering = await load_offering(session, offering_id)
        if offering is None or offering.subject.kind != "oral" or offering.exam_session_id != context.exam_session_id:
            raise offering_not_found()
        return await notices_for(session, context.exam_session_id, scope="school", codes=[offering.school_code])


async def notices_for(session: AsyncSession, exam_session_id: uuid.UUID, *, scope: str, codes: list[str] | None = None) -> list[dict[str, Any]]:
    statement = select(notices.c.scope, notices.c.province_code, notices.c.school_code, notices.c.title, notices.c.body).where(
        notices.c.exam_session_id == exam_session_id, notices.c.scope == scope
    )
    if scope == "province":
        statement = statement.where(notices.c.province_code.in_(codes or []))
    elif scope == "school":
        statement = statement.where(notices.c.school_code.in_(codes or []))
    return [dict(row) for row in (await session.execute(statement.order_by(notices.c.position, notices.c.title))).mappings()]
