"""口试报名校区 (N10, N11): the campuses open now for an oral subject, with what is left and its colour."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import Clock
from cet_shared.problems import Problem
from enrolment.db.context import load_context, province_offerings
from enrolment.domain.rules import campus_allowed, inside
from enrolment.domain.seats import capacity_colour, capacity_label, selectable
from enrolment.domain.subjects import subject
from enrolment.service.notices import notices_for
from enrolment.service.problems import registration_not_found


@dataclass(frozen=True)
class CampusChoice:
    offering_id: uuid.UUID
    subject_code: str
    subject_name: str
    fee_fen: int | None
    school: str
    campus: str
    capacity: int | None
    remaining: int | None
    remaining_label: str
    colour: str
    selectable: bool
    opens_at: datetime | None
    closes_at: datetime | None
    exam_date: date | None


@dataclass(frozen=True)
class OralCampuses:
    subject_code: str
    qualified: bool
    message: str | None
    fixed: bool  # the written campus does not allow other schools' orals: no choice (N10)
    campuses: list[CampusChoice]
    school_notices: list[dict[str, Any]]


async def oral_campuses(sessions: async_sessionmaker[AsyncSession], clock: Clock, passport_id: str, subject_code: str) -> OralCampuses:
    oral = subject(subject_code)
    if oral is None or oral.kind != "oral":
        raise Problem(422, "not_an_oral_subject", "口试科目不正确")
    now = clock.now()
    async with sessions() as session:
        context = await load_context(session, passport_id=passport_id)
        if context is None:
            raise registration_not_found()
        if oral.code not in context.qualification_subjects:
            level = "六" if oral.level == 6 else "四"
            return OralCampuses(oral.code, False, f"不具有CET{level}级口试报考资格！", False, [], [])
        exam_date = context.exam_date(oral.code)
        open_now = [
            offering
            for offering in await province_offerings(session, context.exam_session_id, oral.code, context.province_code)
            if campus_allowed(context, offering) and inside(now, offering.opens_at, offering.closes_at)
        ]
        choices = [
            CampusChoice(
                offering_id=offering.id,
                subject_code=oral.code,
                subject_name=oral.label,
                fee_fen=offering.fee_fen,
                school=f"({offering.school_code}){offering.school_name}",
                campus=f"({offering.campus_code}){offering.campus_name}",
                capacity=offering.capacity,
                remaining=offering.remaining,
                remaining_label=capacity_label(offering.capacity, offering.remaining),
                colour=capacity_colour(offering.capacity, offering.remaining),
                selectable=selectable(offering.capacity, offering.remaining),
                opens_at=offering.opens_at,
                closes_at=offering.closes_at,
                exam_date=exam_date,
            )
            for offering in open_now
        ]
        fixed = context.oral_setting is None or not context.oral_setting.allow_other_schools
        school_codes = sorted({offering.school_code for offering in open_now}) if fixed else []
        school_notices = await notices_for(session, context.exam_session_id, scope="school", codes=school_codes) if school_codes else []
    message = None if choices else "当前没有可报考的口试报名校区，部分校区可能稍后开放，请关注学校相关通知"
    return OralCampuses(oral.code, True, message, fixed, choices, school_notices)
