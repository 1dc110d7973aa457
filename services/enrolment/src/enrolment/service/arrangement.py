"""N13: the arrangement (编排) after registration closes, and the admission ticket PDF."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared import audit
from cet_shared.clock import Clock, to_shanghai
from cet_shared.problems import Problem
from enrolment.db.context import load_registration_row
from enrolment.db.tables import enrolments, exam_sessions, offerings
from enrolment.domain.rules import inside, room_and_seat, ticket_number
from enrolment.domain.subjects import SUBJECTS
from enrolment.service.problems import enrolment_not_found, registration_not_found, session_not_found
from enrolment.service.ticket import Ticket, render
from enrolment.service.units import UnitFactory


async def arrange(units: UnitFactory, clock: Clock, seats_per_room: int, session_id: uuid.UUID) -> int:
    """Give every paid, not yet arranged subject a room, a seat and a ticket number. Rooms fill
    per campus and subject in payment order; running it again only adds the newcomers."""
    now = clock.now()
    async with units() as uow:
        session = uow.session
        exam = (await session.execute(select(exam_sessions).where(exam_sessions.c.id == session_id).with_for_update())).mappings().first()
        if exam is None:
            raise session_not_found()
        if now < exam["registration_closes_at"]:
            raise Problem(409, "registration_not_closed", "报名尚未结束，不能编排")
        rows = (
            (
                await session.execute(
                    select(
                        enrolments.c.id,
                        enrolments.c.subject_code,
                        enrolments.c.arranged_at,
                        offerings.c.province_code,
                        offerings.c.school_code,
                        offerings.c.campus_code,
                    )
                    .join(offerings, offerings.c.id == enrolments.c.offering_id)
                    .where(enrolments.c.exam_session_id == session_id, enrolments.c.status == "paid")
                    .order_by(offerings.c.campus_code, enrolments.c.subject_code, enrolments.c.paid_at, enrolments.c.id)
                    .with_for_update(of=enrolments)
                )
            )
            .mappings()
            .all()
        )
        seated: dict[tuple[str, str], int] = defaultdict(int)
        for row in rows:
            if row["arranged_at"] is not None:
                seated[(row["campus_code"], row["subject_code"])] += 1
        arranged = 0
        for row in rows:
            if row["arranged_at"] is not None:
                continue
            group = (row["campus_code"], row["subject_code"])
            room, seat = room_and_seat(seated[group], seats_per_room)
            seated[group] += 1
            number = ticket_number(
                province_code=row["province_code"],
                school_code=row["school_code"],
                campus_code=row["campus_code"],
                year=exam["year"],
                half=exam["half"],
                subject_code=row["subject_code"],
                room=room,
                seat=seat,
            )
            await session.execute(update(enrolments).where(enrolments.c.id == row["id"]).values(room=room, seat=seat, ticket_number=number, arranged_at=now))
            arranged += 1
        await session.execute(update(exam_sessions).where(exam_sessions.c.id == session_id).values(arranged_at=now))
        await audit.record(
            session,
            "session.arranged",
            ("exam_session", session_id),
            before={"arranged_at": exam["arranged_at"]},
            after={"arranged_at": now, "newly_arranged": arranged},
        )
        await uow.commit()
    return arranged


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
