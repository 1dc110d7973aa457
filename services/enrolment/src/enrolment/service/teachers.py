"""A school teacher locks (or unlocks) unpaid subjects of their own school for collective
payment (集体缴费锁定): the candidate cannot cancel them meanwhile (N8)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared import audit
from cet_shared.problems import Problem
from enrolment.db.tables import enrolments, registrations
from enrolment.domain.subjects import SUBJECTS
from enrolment.service.units import UnitFactory


def _school(school_code: str | None) -> str:
    if not school_code:
        raise Problem(403, "teacher_without_school", "教师账号未关联学校")
    return school_code


async def unpaid_subjects(sessions: async_sessionmaker[AsyncSession], school_code: str | None) -> list[dict]:
    school = _school(school_code)
    async with sessions() as session:
        rows = (
            (
                await session.execute(
                    select(
                        enrolments.c.id,
                        enrolments.c.subject_code,
                        enrolments.c.fee_fen,
                        enrolments.c.locked,
                        enrolments.c.expires_at,
                        registrations.c.registration_id,
                    )
                    .join(registrations, registrations.c.registration_id == enrolments.c.registration_id)
                    .where(registrations.c.school_code == school, enrolments.c.status == "held")
                    .order_by(enrolments.c.enrolled_at)
                    .limit(5000)
                )
            )
            .mappings()
            .all()
        )
    return [dict(row) | {"subject": SUBJECTS[row["subject_code"]].label} for row in rows]


async def set_lock(units: UnitFactory, school_code: str | None, enrolment_ids: list[uuid.UUID], locked: bool) -> int:
    school = _school(school_code)
    async with units() as uow:
        of_school = select(registrations.c.registration_id).where(registrations.c.school_code == school)
        result = await uow.session.execute(
            update(enrolments)
            .where(enrolments.c.id.in_(enrolment_ids), enrolments.c.status == "held", enrolments.c.registration_id.in_(of_school))
            .values(locked=locked)
        )
        await audit.record(
            uow.session,
            "enrolments.locked" if locked else "enrolments.unlocked",
            ("school", school),
            after={"enrolment_ids": enrolment_ids, "changed": result.rowcount or 0},
            school=school,
        )
        await uow.commit()
    return result.rowcount or 0
