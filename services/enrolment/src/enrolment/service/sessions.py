"""Operations: set up an exam session end to end (N1, N2, N3, N10, N11), publish it, change
capacity live. The same document comes from the ops API or a JSON/YAML file (enrolment-admin)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from cet_shared.clock import SHANGHAI
from cet_shared.events.contracts import ExamDate, ExamSessionPublished
from cet_shared.problems import Problem
from cet_shared.strict import IsoMoment
from enrolment.bootstrap import EnrolmentContainer
from enrolment.db.tables import enrolments, exam_sessions, notices, offerings, school_oral_settings
from enrolment.domain.subjects import SUBJECTS
from enrolment.service.problems import offering_not_found, session_not_found
from enrolment.service import seats
from enrolment.service.waitlist import offer_free_seats

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
SchoolCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
CampusCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
SubjectCode = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "F", "S"]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]


def _storable(moment: datetime) -> datetime:
    # Stored in UTC: a time at the calendar's edge (year 1 east of UTC…) has no UTC value to store.
    if not 1970 <= moment.year <= 2999 or not 1970 <= moment.astimezone(timezone.utc).year <= 2999:
        raise ValueError("time must lie between the years 1970 and 2999")
    return moment


Moment = Annotated[IsoMoment, AfterValidator(_storable)]  # ISO 8601 text in a plausible range


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL: refuse it here as bad input, not later as a database error.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("包含无法识别的字符")
        return value


class Window(Strict):
    opens_at: Moment
    closes_at: Moment

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class OfferingSpec(Strict):
    subject: SubjectCode
    fee_fen: int | None = Field(default=None, ge=0, le=100_000)
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    opens_at: Moment | None = None
    closes_at: Moment | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "OfferingSpec":
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class CampusSpec(Strict):
    province_code: ProvinceCode
    school_code: SchoolCode
    school_name: ShortText
    campus_code: CampusCode
    campus_name: ShortText
    accepts_other_schools: bool = False
    offerings: list[OfferingSpec] = Field(default_factory=list, max_length=11)

    @model_validator(mode="after")
    def _codes_nest(self) -> "CampusSpec":
        if not self.school_code.startswith(self.province_code) or not self.campus_code.startswith(self.school_code):
            raise ValueError("school code starts with the province code, campus code with the school code")
        return self


class NoticeSpec(Strict):
    scope: Literal["registration_notes", "province", "school"]
    province_code: ProvinceCode | None = None
    school_code: SchoolCode | None = None
    title: ShortText
    body: LongText
    position: int = Field(default=0, ge=0, le=1000)

    @model_validator(mode="after")
    def _scoped(self) -> "NoticeSpec":
        if self.scope == "province" and not self.province_code:
            raise ValueError("a province notice needs province_code")
        if self.scope == "school" and not self.school_code:
            raise ValueError("a school notice needs school_code")
        return self


class SchoolOralSpec(Strict):
    school_code: SchoolCode
    allow_other_schools: bool = False
    allowed_campus_codes: list[CampusCode] | None = Field(default=None, max_length=1000)


class SessionSpec(Strict):
    id: uuid.UUID | None = None
    name: ShortText
    year: int = Field(ge=2000, le=2099)
    half: Literal[1, 2]
    registration: Window
    written_exam_date: date | None = None
    oral_exam_dates: dict[Literal["F", "S"], date] = Field(default_factory=dict)
    written_tickets: Window | None = None
    oral_tickets: Window | None = None
    notices: list[NoticeSpec] = Field(default_factory=list, max_length=1000)
    school_oral_settings: list[SchoolOralSpec] = Field(default_factory=list, max_length=10_000)
    campuses: list[CampusSpec] = Field(default_factory=list, max_length=10_000)


# -- relative times in files, so a demo session is always "now" -----------------------------

_RELATIVE = re.compile(r"^(now|today)((?:[+-]\d+[dhm])*)(?:@(\d{2}):(\d{2}))?$")
_STEP = re.compile(r"([+-])(\d+)([dhm])")


def resolve_relative(value: Any, now: datetime) -> Any:
    """'now-1d', 'now+30d', 'today+40d', 'today+40d@09:00' (Asia/Shanghai) anywhere in a document."""
    if isinstance(value, dict):
        return {k: resolve_relative(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_relative(v, now) for v in value]
    if not isinstance(value, str) or not (match := _RELATIVE.match(value)):
        return value
    base, steps, hour, minute = match.groups()
    moment = now.astimezone(SHANGHAI)
    if base == "today":
        moment = datetime.combine(moment.date(), time(0, 0), SHANGHAI)
    for sign, amount, unit in _STEP.findall(steps):
        delta = timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: int(amount)})
        moment = moment + delta if sign == "+" else moment - delta
    if hour is not None:
        moment = moment.replace(hour=int(hour), minute=int(minute))
    if base == "today" and hour is None:
        return moment.date().isoformat()
    return moment.isoformat()


# -- use cases -------------------------------------------------------------------------------

async def create_session(ctx: EnrolmentContainer, spec: SessionSpec) -> uuid.UUID:
    session_id = spec.id or uuid.uuid4()
    async with ctx.unit_of_work() as uow:
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


async def add_campus(ctx: EnrolmentContainer, session_id: uuid.UUID, campus: CampusSpec) -> list[uuid.UUID]:
    async with ctx.unit_of_work() as uow:
        await _existing(uow.session, session_id)
        ids = [await _insert_offering(uow.session, session_id, campus, offering) for offering in campus.offerings]
        await uow.commit()
    return ids


async def add_notice(ctx: EnrolmentContainer, session_id: uuid.UUID, notice: NoticeSpec) -> None:
    async with ctx.unit_of_work() as uow:
        await _existing(uow.session, session_id)
        await _insert_notice(uow.session, session_id, notice)
        await uow.commit()


async def set_school_oral_setting(ctx: EnrolmentContainer, session_id: uuid.UUID, setting: SchoolOralSpec) -> None:
    async with ctx.unit_of_work() as uow:
        await _existing(uow.session, session_id)
        await _upsert_school_setting(uow.session, session_id, setting)
        await uow.commit()


async def set_capacity(ctx: EnrolmentContainer, offering_id: uuid.UUID, capacity: int) -> dict:
    """N11, live: the new capacity moves `remaining` by the same amount, in one conditional
    UPDATE, and is refused when it would fall below the seats already held. Seats it frees go to
    the campus's waiting list first (N14)."""
    async with ctx.unit_of_work() as uow:
        row = await seats.resize(uow.session, offering_id, capacity)
        if row is None:
            current = (await uow.session.execute(select(offerings.c.capacity, offerings.c.remaining).where(offerings.c.id == offering_id))).first()
            if current is None:
                raise offering_not_found()
            if current.capacity is None:
                raise Problem(409, "capacity_unlimited", "该科目未设置容量限制，不能在线修改容量")
            raise Problem(409, "capacity_below_held", f"容量不能低于已占用考位数（{current.capacity - current.remaining}）")
        promoted = await offer_free_seats(uow, offering_id, now=ctx.clock.now(), lifetime=ctx.settings.unpaid_lifetime)
        await uow.commit()
    new_capacity, remaining = row
    return {"capacity": new_capacity, "remaining": remaining - promoted, "promoted_from_waitlist": promoted}


async def publish(ctx: EnrolmentContainer, session_id: uuid.UUID) -> ExamSessionPublished:
    """ExamSessionPublished (key: the exam session id) tells eligibility the windows (E5/E6)."""
    async with ctx.unit_of_work() as uow:
        session = uow.session
        exam = (await session.execute(select(exam_sessions).where(exam_sessions.c.id == session_id).with_for_update())).mappings().first()
        if exam is None:
            raise session_not_found()
        written_codes = (
            await session.execute(
                select(offerings.c.subject_code).where(offerings.c.exam_session_id == session_id).distinct().order_by(offerings.c.subject_code)
            )
        ).scalars().all()
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
        await session.execute(update(exam_sessions).where(exam_sessions.c.id == session_id).values(published_at=ctx.clock.now()))
        await uow.publish(event, key=str(session_id))
        await uow.commit()
    return event


async def session_overview(ctx: EnrolmentContainer, session_id: uuid.UUID) -> dict:
    async with ctx.sessions() as session:
        exam = await _existing(session, session_id)
        rows = (
            await session.execute(
                select(offerings, func.count(enrolments.c.id).filter(enrolments.c.seat_held).label("held"))
                .outerjoin(enrolments, enrolments.c.offering_id == offerings.c.id)
                .where(offerings.c.exam_session_id == session_id)
                .group_by(offerings.c.id)
                .order_by(offerings.c.campus_code, offerings.c.subject_code)
            )
        ).mappings().all()
    return {"session": exam, "offerings": [dict(row) for row in rows]}
