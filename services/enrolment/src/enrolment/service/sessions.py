"""Operations: set up an exam session end to end (N1, N2, N3, N10, N11), publish it, change
capacity live. Each use case receives the unit of work factory (and the clock, the payment time)
it uses; the document's shape is `service.session_specs`."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared import audit
from cet_shared.clock import Clock
from cet_shared.events.contracts import ExamDate, ExamSessionPublished
from cet_shared.problems import Problem
from enrolment.db.tables import enrolments, exam_sessions, notices, offerings, school_oral_settings
from enrolment.domain.subjects import SUBJECTS
from enrolment.service import seats
from enrolment.service.problems import offering_not_found, session_not_found
from enrolment.service.session_specs import CampusSpec, NoticeSpec, OfferingSpec, SchoolOralSpec, SessionSpec
from enrolment.service.units import UnitFactory
from enrolment.service.waitlist import offer_free_seats


async def create_session(units: UnitFactory, spec: SessionSpec) -> uuid.UUID:
    session_id = spec.id or uuid.uuid4()
    async with units() as uow:
        session = uow.session
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(exam_sessions).values(
                        id=session_id,
                        name=spec.name,
                        year=spec.year,
                        half=spec.half,
                        registration_opens_at=spec.registration.opens_at,
                        registration_closes_at=spec.registration.closes_at,
                        written_exam_date=spec.written_exam_date,
                        oral_exam_dates={k: v.isoformat() for k, v in spec.oral_exam_dates.items()},
                        written_tickets_opens_at=spec.written_tickets.opens_at if spec.written_tickets else None,
                        written_tickets_closes_at=spec.written_tickets.closes_at if spec.written_tickets else None,
                        oral_tickets_opens_at=spec.oral_tickets.opens_at if spec.oral_tickets else None,
                        oral_tickets_closes_at=spec.oral_tickets.closes_at if spec.oral_tickets else None,
                    )
                )
        except IntegrityError:
            raise Problem(409, "exam_session_exists", "考次已存在") from None
        for campus in spec.campuses:
            for offering in campus.offerings:
                await _insert_offering(session, session_id, campus, offering)
        for notice in spec.notices:
            await _insert_notice(session, session_id, notice)
        for setting in spec.school_oral_settings:
            await _upsert_school_setting(session, session_id, setting)
        await audit.record(session, "session.created", ("exam_session", session_id), after=spec)
        await uow.commit()
    return session_id


async def _insert_offering(session, session_id: uuid.UUID, campus: CampusSpec, offering: OfferingSpec) -> uuid.UUID:  # noqa: ANN001
    offering_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(
                insert(offerings).values(
                    id=offering_id,
                    exam_session_id=session_id,
                    subject_code=offering.subject,
                    province_code=campus.province_code,
                    school_code=campus.school_code,
                    school_name=campus.school_name,
                    campus_code=campus.campus_code,
                    campus_name=campus.campus_name,
                    fee_fen=offering.fee_fen,
                    capacity=offering.capacity,
                    remaining=offering.capacity,
                    opens_at=offering.opens_at,
                    closes_at=offering.closes_at,
                    accepts_other_schools=campus.accepts_other_schools,
                )
            )
    except IntegrityError:
        raise Problem(409, "offering_exists", f"校区{campus.campus_code}已设置科目{offering.subject}") from None
    return offering_id


async def _insert_notice(session, session_id: uuid.UUID, notice: NoticeSpec) -> None:  # noqa: ANN001
    await session.execute(insert(notices).values(id=uuid.uuid4(), exam_session_id=session_id, **notice.model_dump()))


async def _upsert_school_setting(session, session_id: uuid.UUID, setting: SchoolOralSpec) -> None:  # noqa: ANN001
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    values = setting.model_dump()
    await session.execute(
        pg_insert(school_oral_settings)
        .values(exam_session_id=session_id, **values)
        .on_conflict_do_update(index_elements=["exam_session_id", "school_code"], set_={k: v for k, v in values.items() if k != "school_code"})
    )


async def _existing(session, session_id: uuid.UUID) -> dict:  # noqa: ANN001
    row = (await session.execute(select(exam_sessions).where(exam_sessions.c.id == session_id))).mappings().first()
    if row is None:
        raise session_not_found()
    return dict(row)


async def add_campus(units: UnitFactory, session_id: uuid.UUID, campus: CampusSpec) -> list[uuid.UUID]:
    async with units() as uow:
        await _existing(uow.session, session_id)
        ids = [await _insert_offering(uow.session, session_id, campus, offering) for offering in campus.offerings]
        await audit.record(uow.session, "session.campus_added", ("exam_session", session_id), after=campus, school=campus.school_code)
        await uow.commit()
    return ids


async def add_notice(units: UnitFactory, session_id: uuid.UUID, notice: NoticeSpec) -> None:
    async with units() as uow:
        await _existing(uow.session, session_id)
        await _insert_notice(uow.session, session_id, notice)
        await audit.record(
            uow.session, "session.notice_added", ("exam_session", session_id), after=notice, school=notice.school_code, province=notice.province_code
        )
        await uow.commit()


async def set_school_oral_setting(units: UnitFactory, session_id: uuid.UUID, setting: SchoolOralSpec) -> None:
    async with units() as uow:
        await _existing(uow.session, session_id)
        await _upsert_school_setting(uow.session, session_id, setting)
        await audit.record(uow.session, "session.school_oral_setting", ("exam_session", session_id), after=setting, school=setting.school_code)
        await uow.commit()


async def set_capacity(units: UnitFactory, clock: Clock, lifetime: timedelta, offering_id: uuid.UUID, capacity: int) -> dict[str, int]:
    """N11, live: the new capacity moves `remaining` by the same amount, in one conditional
    UPDATE, and is refused when it would fall below the seats already held. Seats it frees go to
    the campus's waiting list first (N14)."""
    async with units() as uow:
        before = (
            await uow.session.execute(
                select(offerings.c.capacity, offerings.c.remaining, offerings.c.school_code).where(offerings.c.id == offering_id).with_for_update()
            )
        ).first()
        row = await seats.resize(uow.session, offering_id, capacity)
        if row is None:
            current = (await uow.session.execute(select(offerings.c.capacity, offerings.c.remaining).where(offerings.c.id == offering_id))).first()
            if current is None:
                raise offering_not_found()
            if current.capacity is None:
                raise Problem(409, "capacity_unlimited", "该科目未设置容量限制，不能在线修改容量")
            raise Problem(409, "capacity_below_held", f"容量不能低于已占用考位数（{current.capacity - current.remaining}）")
        promoted = await offer_free_seats(uow, offering_id, now=clock.now(), lifetime=lifetime)
        new_capacity, remaining = row
        await audit.record(
            uow.session,
            "offering.capacity_changed",
            ("offering", offering_id),
            before={"capacity": before.capacity, "remaining": before.remaining},
            after={"capacity": new_capacity, "remaining": remaining, "promoted_from_waitlist": promoted},
            school=before.school_code,
        )
        await uow.commit()
    return {"capacity": new_capacity, "remaining": remaining - promoted, "promoted_from_waitlist": promoted}


async def publish(units: UnitFactory, clock: Clock, session_id: uuid.UUID) -> ExamSessionPublished:
    """ExamSessionPublished (key: the exam session id) tells eligibility the windows (E5/E6)."""
    async with units() as uow:
        session = uow.session
        exam = (await session.execute(select(exam_sessions).where(exam_sessions.c.id == session_id).with_for_update())).mappings().first()
        if exam is None:
            raise session_not_found()
        written_codes = (
            (
                await session.execute(
                    select(offerings.c.subject_code).where(offerings.c.exam_session_id == session_id).distinct().order_by(offerings.c.subject_code)
                )
            )
            .scalars()
            .all()
        )
        dates = [
            ExamDate(subject_code=code, exam_date=exam["written_exam_date"])
            for code in written_codes
            if SUBJECTS[code].kind == "written" and exam["written_exam_date"]
        ]
        dates += [ExamDate(subject_code=code, exam_date=date.fromisoformat(value)) for code, value in sorted(exam["oral_exam_dates"].items())]
        event = ExamSessionPublished(
            exam_session_id=session_id,
            name=exam["name"],
            registration_opens_at=exam["registration_opens_at"],
            registration_closes_at=exam["registration_closes_at"],
            written_exam_date=exam["written_exam_date"],
            exam_dates=dates,
        )
        await session.execute(update(exam_sessions).where(exam_sessions.c.id == session_id).values(published_at=clock.now()))
        await uow.publish(event, key=str(session_id))
        await audit.record(session, "session.published", ("exam_session", session_id), before={"published_at": exam["published_at"]}, after=event)
        await uow.commit()
    return event


async def session_overview(sessions: async_sessionmaker[AsyncSession], session_id: uuid.UUID) -> dict[str, Any]:
    async with sessions() as session:
        exam = await _existing(session, session_id)
        rows = (
            (
                await session.execute(
                    select(offerings, func.count(enrolments.c.id).filter(enrolments.c.seat_held).label("held"))
                    .outerjoin(enrolments, enrolments.c.offering_id == offerings.c.id)
                    .where(offerings.c.exam_session_id == session_id)
                    .group_by(offerings.c.id)
                    .order_by(offerings.c.campus_code, offerings.c.subject_code)
                )
            )
            .mappings()
            .all()
        )
    return {"session": exam, "offerings": [dict(row) for row in rows]}
