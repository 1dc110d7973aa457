"""The candidate's use cases (guide steps 9–15): notices, written and oral enrolment, cancelling,
the oral campus list, the waiting list. Each runs in one unit of work under the registration's row
lock, so one candidate's concurrent clicks are applied one after the other."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.events.contracts import SubjectCancelled
from cet_shared.problems import Problem
from enrolment.bootstrap import Enrolment
from enrolment.db.tables import enrolments, exam_sessions, notices, offerings, registrations, school_oral_settings, waitlist
from enrolment.domain.rules import (
    Active,
    OfferingView,
    Refusal,
    capacity_colour,
    capacity_label,
    check_oral,
    check_registration_window,
    check_written,
    inside,
    oral_campus_allowed,
    seats_full,
)
from enrolment.domain.subjects import SUBJECTS, subject
from enrolment.service.problems import enrolment_not_found, offering_not_found, problem, refusals_as_problems, registration_not_found
from enrolment.service.seats import active_codes, claim_seats, end_hold, insert_hold, return_seat, seat_refused


async def load_registration(session: AsyncSession, passport_id: str, *, lock: bool) -> dict:
    """The caller's registration in its most recent exam session, with that session's windows."""
    statement = (
        select(
            registrations,
            exam_sessions.c.registration_opens_at,
            exam_sessions.c.registration_closes_at,
            exam_sessions.c.published_at,
            exam_sessions.c.oral_exam_dates,
        )
        .join(exam_sessions, exam_sessions.c.id == registrations.c.exam_session_id)
        .where(registrations.c.passport_id == passport_id)
        .order_by(registrations.c.bound_at.desc())
        .limit(1)
    )
    if lock:
        statement = statement.with_for_update(of=registrations)
    row = (await session.execute(statement)).mappings().first()
    if row is None:
        raise registration_not_found()
    return dict(row)


def check_can_enrol(registration: dict, now: datetime) -> None:
    if registration["released_at"] is not None:
        raise Refusal("registration_released", "报名信息已被删除（保存后24小时内未报考任何科目），请重新进行资格信息确认", 409)
    if registration["published_at"] is None:
        raise Refusal("registration_not_open", "报名尚未开始")
    check_registration_window(now, registration["registration_opens_at"], registration["registration_closes_at"])


def _active(rows: list[tuple[str, str, int]]) -> list[Active]:
    return [Active(code, kind, level) for code, kind, level in rows]


def offering_view(offering: dict) -> OfferingView:
    return OfferingView(
        subject_code=offering["subject_code"],
        fee_fen=offering["fee_fen"],
        capacity=offering["capacity"],
        remaining=offering["remaining"],
        opens_at=offering["opens_at"],
        closes_at=offering["closes_at"],
    )


async def acknowledge_notices(ctx: Enrolment, passport_id: str) -> datetime:
    """N3: the candidate has read 报考须知 and 省通告; written subjects can be chosen after this."""
    async with ctx.unit_of_work() as uow:
        registration = await load_registration(uow.session, passport_id, lock=True)
        now = registration["notices_acknowledged_at"] or ctx.clock.now()
        await uow.session.execute(
            update(registrations).where(registrations.c.registration_id == registration["registration_id"]).values(notices_acknowledged_at=now)
        )
        await uow.commit()
    return now


async def enrol_written(ctx: Enrolment, passport_id: str, subject_codes: list[str]) -> list[uuid.UUID]:
    """N3–N5, N7: one batch of written subjects at the candidate's registry campus, all or nothing."""
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        registration = await load_registration(session, passport_id, lock=True)
        with refusals_as_problems():
            check_can_enrol(registration, now)
            if registration["notices_acknowledged_at"] is None:
                raise Refusal("notices_not_acknowledged", "请先阅读报考须知及省通告")
            active = _active(await active_codes(session, registration["registration_id"]))
            created, claims = [], []
            for code in dict.fromkeys(subject_codes):
                chosen = subject(code)
                if chosen is None or chosen.kind != "written":
                    raise Refusal("not_a_written_subject", "笔试科目不正确", 422)
                check_written(chosen, registration["qualification_subjects"], active)
                offering = (
                    await session.execute(
                        select(offerings).where(
                            offerings.c.exam_session_id == registration["exam_session_id"],
                            offerings.c.subject_code == chosen.code,
                            offerings.c.campus_code == registration["campus_code"],
                        )
                    )
                ).mappings().first()
                if offering is None:
                    raise Refusal("not_offered", f"笔试报名校区未开考{chosen.label}")
                if not inside(now, offering["opens_at"], offering["closes_at"]):
                    raise Refusal("campus_not_open", "该校区不在报名时间内")
                if offering["fee_fen"] is None or offering["fee_fen"] <= 0:
                    raise Refusal("fee_not_set", "该科目费用未设置，暂不能报考")
                if offering["remaining"] == 0:
                    raise seats_full()
                enrolment_id = await insert_hold(
                    uow, registration=registration, offering=dict(offering), now=now, expires_at=now + ctx.settings.unpaid_lifetime
                )
                if offering["capacity"] is not None:
                    claims.append((offering["id"], enrolment_id))
                created.append(enrolment_id)
                active.append(Active(chosen.code, chosen.kind, chosen.level))
            await claim_seats(session, claims)
        await _commit_holds(uow)
    return created


async def _commit_holds(uow) -> None:  # noqa: ANN001
    """Commit; the claimed seats are taken now, or the whole unit is refused as full (N11)."""
    try:
        await uow.commit()
    except DBAPIError as error:
        if seat_refused(error):
            raise problem(seats_full()) from None
        raise


async def _oral_offering(session: AsyncSession, offering_id: uuid.UUID, registration: dict | None = None) -> dict:
    statement = select(offerings).where(offerings.c.id == offering_id)
    if registration is not None:
        statement = statement.where(offerings.c.exam_session_id == registration["exam_session_id"])
    offering = (await session.execute(statement)).mappings().first()
    if offering is None or SUBJECTS[offering["subject_code"]].kind != "oral":
        raise offering_not_found()
    return dict(offering)


def exam_date_of(registration: dict, code: str) -> date | None:
    value = (registration["oral_exam_dates"] or {}).get(code)
    return date.fromisoformat(value) if value else None


async def _school_setting(session: AsyncSession, registration: dict) -> dict | None:
    row = (
        await session.execute(
            select(school_oral_settings).where(
                school_oral_settings.c.exam_session_id == registration["exam_session_id"],
                school_oral_settings.c.school_code == registration["school_code"],
            )
        )
    ).mappings().first()
    return dict(row) if row else None


def _campus_condition(registration: dict, setting: dict | None):  # noqa: ANN202 - a SQL expression
    """N10: which campuses the candidate may choose for an oral exam (as SQL, for the list;
    `domain.rules.oral_campus_allowed` says the same for one offering)."""
    if setting is None or not setting["allow_other_schools"]:
        # No choice: the written (registry) campus.
        return offerings.c.campus_code == registration["campus_code"]
    condition = and_(
        offerings.c.province_code == registration["province_code"],
        or_(offerings.c.school_code == registration["school_code"], offerings.c.accepts_other_schools.is_(True)),
    )
    if setting["allowed_campus_codes"] is not None:
        condition = and_(condition, offerings.c.campus_code.in_(setting["allowed_campus_codes"]))
    return condition


def check_campus_allowed(registration: dict, setting: dict | None, offering: dict) -> None:
    allowed = oral_campus_allowed(
        candidate_province=registration["province_code"],
        candidate_school=registration["school_code"],
        candidate_campus=registration["campus_code"],
        allow_other_schools=bool(setting and setting["allow_other_schools"]),
        allowed_campus_codes=setting["allowed_campus_codes"] if setting else None,
        offering_province=offering["province_code"],
        offering_school=offering["school_code"],
        offering_campus=offering["campus_code"],
        accepts_other_schools=offering["accepts_other_schools"],
    )
    if not allowed:
        raise Refusal("campus_not_available", "不能选择该口试报名校区，请咨询学校相关老师", 403)


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
    school_notices: list[dict]


async def oral_campuses(ctx: Enrolment, passport_id: str, subject_code: str) -> OralCampuses:
    """N10/N11: the campuses open now for this oral subject, with remaining capacity and colour."""
    oral = subject(subject_code)
    if oral is None or oral.kind != "oral":
        raise Problem(422, "not_an_oral_subject", "口试科目不正确")
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        registration = await load_registration(session, passport_id, lock=False)
        if oral.code not in registration["qualification_subjects"]:
            level = "六" if oral.level == 6 else "四"
            return OralCampuses(oral.code, False, f"不具有CET{level}级口试报考资格！", False, [], [])
        setting = await _school_setting(session, registration)
        exam_date = exam_date_of(registration, oral.code)
        rows = (
            await session.execute(
                select(offerings)
                .where(
                    offerings.c.exam_session_id == registration["exam_session_id"],
                    offerings.c.subject_code == oral.code,
                    _campus_condition(registration, setting),
                    or_(offerings.c.opens_at.is_(None), offerings.c.opens_at <= now),
                    or_(offerings.c.closes_at.is_(None), offerings.c.closes_at > now),
                )
                .order_by(offerings.c.school_code, offerings.c.campus_code)
            )
        ).mappings().all()
        fixed = setting is None or not setting["allow_other_schools"]
        choices = [
            CampusChoice(
                offering_id=row["id"],
                subject_code=oral.code,
                subject_name=oral.label,
                fee_fen=row["fee_fen"],
                school=f"({row['school_code']}){row['school_name']}",
                campus=f"({row['campus_code']}){row['campus_name']}",
                capacity=row["capacity"],
                remaining=row["remaining"],
                remaining_label=capacity_label(row["capacity"], row["remaining"]),
                colour=capacity_colour(row["capacity"], row["remaining"]),
                selectable=capacity_colour(row["capacity"], row["remaining"]) != "red",
                opens_at=row["opens_at"],
                closes_at=row["closes_at"],
                exam_date=exam_date,
            )
            for row in rows
        ]
        school_codes = sorted({row["school_code"] for row in rows}) if fixed else []
        school_notices = await notices_for(session, registration["exam_session_id"], scope="school", codes=school_codes) if school_codes else []
    message = None if choices else "当前没有可报考的口试报名校区，部分校区可能稍后开放，请关注学校相关通知"
    return OralCampuses(oral.code, True, message, fixed, choices, school_notices)


async def school_notices(ctx: Enrolment, passport_id: str, offering_id: uuid.UUID) -> list[dict]:
    """After choosing a campus, its school notice loads (N10)."""
    async with ctx.sessions() as session:
        registration = await load_registration(session, passport_id, lock=False)
        offering = await _oral_offering(session, offering_id, registration)
        return await notices_for(session, registration["exam_session_id"], scope="school", codes=[offering["school_code"]])


async def notices_for(session: AsyncSession, exam_session_id: uuid.UUID, *, scope: str, codes: list[str] | None = None) -> list[dict]:
    statement = select(notices.c.scope, notices.c.province_code, notices.c.school_code, notices.c.title, notices.c.body).where(
        notices.c.exam_session_id == exam_session_id, notices.c.scope == scope
    )
    if scope == "province":
        statement = statement.where(notices.c.province_code.in_(codes or []))
    elif scope == "school":
        statement = statement.where(notices.c.school_code.in_(codes or []))
    return [dict(row) for row in (await session.execute(statement.order_by(notices.c.position, notices.c.title))).mappings()]


async def cancel(ctx: Enrolment, passport_id: str, enrolment_id: uuid.UUID) -> None:
    """N8: an unpaid subject may be cancelled inside the window unless the school locked it for
    collective payment; a paid one never. The seat returns (to the first in line, N14)."""
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        registration = await load_registration(session, passport_id, lock=True)
        row = (
            await session.execute(
                select(enrolments).where(enrolments.c.id == enrolment_id, enrolments.c.registration_id == registration["registration_id"])
            )
        ).mappings().first()
        if row is None or row["status"] in ("cancelled", "expired"):
            raise enrolment_not_found()
        if row["status"] == "paid":
            raise Problem(409, "paid_not_cancellable", "已支付科目不可取消报考")
        if row["locked"]:
            raise Problem(409, "locked_for_collective_payment", "该科目已被学校集体缴费锁定，无法取消，请联系学校老师")
        try:
            check_registration_window(now, registration["registration_opens_at"], registration["registration_closes_at"])
        except Refusal as refusal:
            raise problem(refusal) from None
        if row["kind"] == "written":
            dependent = await session.scalar(
                select(enrolments.c.id).where(
                    enrolments.c.registration_id == registration["registration_id"],
                    enrolments.c.kind == "oral",
                    enrolments.c.level == row["level"],
                    enrolments.c.seat_held,
                )
            )
            if dependent is not None:
                raise Problem(409, "oral_depends_on_written", "请先取消同级别口试科目，再取消笔试科目")
        ended = await end_hold(uow, enrolment_id, "cancelled", now=now)
        if ended is None:  # cannot happen under the registration lock, but never return a seat twice
            raise enrolment_not_found()
        await uow.publish(SubjectCancelled(enrolment_id=enrolment_id, registration_id=registration["registration_id"]), key=str(registration["registration_id"]))
        await return_seat(uow, row["offering_id"], now=now, lifetime=ctx.settings.unpaid_lifetime)
        await uow.commit()


async def join_waitlist(ctx: Enrolment, passport_id: str, offering_id: uuid.UUID) -> int:
    """N14: a full oral campus keeps a line; every other N9 condition must hold already."""
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        registration = await load_registration(session, passport_id, lock=True)
        offering = await _oral_offering(session, offering_id, registration)
        with refusals_as_problems():
            check_can_enrol(registration, now)
            check_campus_allowed(registration, await _school_setting(session, registration), offering)
            oral = SUBJECTS[offering["subject_code"]]
            active = _active(await active_codes(session, registration["registration_id"]))
            check_oral(
                oral, registration["qualification_subjects"], active, exam_date=exam_date_of(registration, oral.code), offering=offering_view(offering), now=now, need_seat=False
            )
        current = (await session.execute(select(offerings.c.remaining).where(offerings.c.id == offering_id))).scalar()
        if current is None or current > 0:
            raise Problem(409, "seats_available", "该校区仍有剩余考位，请直接报考")
        try:
            async with session.begin_nested():
                entry = (
                    await session.execute(
                        insert(waitlist)
                        .values(offering_id=offering_id, registration_id=registration["registration_id"], status="waiting", joined_at=now)
                        .returning(waitlist.c.id)
                    )
                ).scalar_one()
        except IntegrityError:
            raise Problem(409, "already_waiting", "已在该校区候补队列中") from None
        await uow.commit()
    return entry


async def leave_waitlist(ctx: Enrolment, passport_id: str, entry_id: int) -> None:
    async with ctx.unit_of_work() as uow:
        registration = await load_registration(uow.session, passport_id, lock=True)
        result = await uow.session.execute(
            update(waitlist)
            .where(waitlist.c.id == entry_id, waitlist.c.registration_id == registration["registration_id"], waitlist.c.status == "waiting")
            .values(status="left", ended_at=ctx.clock.now())
        )
        if result.rowcount == 0:
            raise Problem(404, "waitlist_entry_not_found", "候补记录不存在")
        await uow.commit()
