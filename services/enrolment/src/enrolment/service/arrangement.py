"""N13: the admission ticket PDF (the arrangement itself, 编排, is a background job: arrangement_job)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import Clock, to_shanghai
from cet_shared.problems import Problem
from enrolment.db.context import load_registration_row
from enrolment.db.tables import enrolments, exam_sessions, offerings
from enrolment.domain.rules import inside
from enrolment.domain.subjects import SUBJECTS
from enrolment.service.problems import enrolment_not_found, registration_not_found
from enrolment.service.ticket import Ticket, render

WRITTEN_TIMES = {4: "09:00–11:20", 6: "15:00–17:25"}


async def ticket_pdf(sessions: async_sessionmaker[AsyncSession], clock: Clock, passport_id: str, enrolment_id: uuid.UUID) -> tuple[str, bytes]:
    """The admission ticket of a paid, arranged subject, inside its printing window."""
    now = clock.now()
    async with sessions() as session:
        registration = await load_registration_row(session, passport_id)
        if registration is None:
            raise registration_not_found()
        row = (
            (
                await session.execute(
                    select(enrolments, offerings.c.school_name, offerings.c.campus_name, offerings.c.school_code, offerings.c.campus_code)
                    .join(offerings, offerings.c.id == enrolments.c.offering_id)
                    .where(enrolments.c.id == enrolment_id, enrolments.c.registration_id == registration["registration_id"])
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["status"] != "paid":
            raise enrolment_not_found()
        exam = (await session.execute(select(exam_sessions).where(exam_sessions.c.id == row["exam_session_id"]))).mappings().one()
    if row["arranged_at"] is None:
        raise Problem(409, "not_arranged", "尚未编排，暂不能打印准考证")
    kind = row["kind"]
    opens, closes = exam[f"{kind}_tickets_opens_at"], exam[f"{kind}_tickets_closes_at"]
    if opens is None or not inside(now, opens, closes):
        raise Problem(409, "tickets_not_open", "不在准考证打印时间内，请在首页查看准考证打印时间")
    subject = SUBJECTS[row["subject_code"]]
    snapshot = registration["snapshot"]
    if kind == "written":
        when = f"{exam['written_exam_date']} {WRITTEN_TIMES[subject.level]}"
    else:
        when = f"{(exam['oral_exam_dates'] or {}).get(subject.code, '')}（具体时间以考点安排为准）"
    ticket = Ticket(
        title="全国大学英语四、六级考试 准考证" if kind == "written" else "全国大学英语四、六级考试 口试准考证",
        exam_name=exam["name"],
        ticket_number=row["ticket_number"],
        name=snapshot.get("name", ""),
        id_number=snapshot.get("id_number", ""),
        subject=f"({subject.code}) {subject.label}",
        when=when,
        site=f"({row['school_code']}){row['school_name']}",
        campus=f"({row['campus_code']}){row['campus_name']}",
        room=f"{row['room']:03d}",
        seat=f"{row['seat']:02d}",
        printed_at=f"{to_shanghai(now):%Y-%m-%d %H:%M}",
    )
    return row["ticket_number"], await asyncio.to_thread(render, ticket)
