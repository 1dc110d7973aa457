"""The enrolment rules N4–N11, N12, N13 as pure functions over typed values (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from enrolment.domain.context import Active, CandidateContext, Offering
from enrolment.domain.refusals import Refusal
from enrolment.domain.seats import seats_full
from enrolment.domain.subjects import ORAL_WRITTEN, Subject


def inside(now: datetime, opens_at: datetime | None, closes_at: datetime | None) -> bool:
    return (opens_at is None or opens_at <= now) and (closes_at is None or now < closes_at)


def check_registration_window(now: datetime, opens_at: datetime, closes_at: datetime) -> None:
    if now < opens_at:
        raise Refusal("registration_not_open", "报名尚未开始")
    if now >= closes_at:
        raise Refusal("registration_closed", "报名已结束")


def check_written(subject: Subject, qualifications: Iterable[str], active: Iterable[Active]) -> None:
    """N4 qualified only; N5 one written subject per level."""
    if subject.code not in set(qualifications):
        raise Refusal("not_qualified", f"不具有{subject.label}报考资格！", 403)
    for a in active:
        if a.kind == "written" and a.level == subject.level:
            if a.subject_code == subject.code:
                raise Refusal("already_enrolled", f"已报考{subject.label}，请勿重复报考")
            raise Refusal("one_per_level", f"同级别科目仅能报考一科，已报考其他{subject.level}级笔试科目")


def check_oral(
    subject: Subject,
    qualifications: Iterable[str],
    active: Iterable[Active],
    *,
    exam_date: date | None,
    offering: Offering,
    now: datetime,
    need_seat: bool = True,
) -> None:
    """N9, every condition in the guide's order: qualification, same-level written enrolled (N6),
    exam date set, campus inside its own registration time, fee set and > 0, remaining capacity."""
    active = list(active)
    if subject.code not in set(qualifications):
        level = "六" if subject.level == 6 else "四"
        raise Refusal("not_qualified", f"不具有CET{level}级口试报考资格！", 403)
    written = ORAL_WRITTEN[subject.code]
    if not any(a.kind == "written" and a.subject_code == written for a in active):
        raise Refusal("written_first", "必须先完成同级别笔试科目的报考，才可以报考口试")
    if any(a.kind == "oral" and a.level == subject.level for a in active):
        raise Refusal("already_enrolled", f"已报考{subject.label}，请勿重复报考")
    if exam_date is None:
        raise Refusal("exam_date_not_set", "该科目考试日期未设置，暂不能报考")
    if not inside(now, offering.opens_at, offering.closes_at):
        raise Refusal("campus_not_open", "该校区不在报名时间内")
    if offering.fee_fen is None or offering.fee_fen <= 0:
        raise Refusal("fee_not_set", "该科目费用未设置，暂不能报考")
    if need_seat and offering.remaining is not None and offering.remaining <= 0:
        raise seats_full()


def campus_allowed(context: CandidateContext, offering: Offering) -> bool:
    """N10, the only statement of it: a school that does not let its candidates take orals
    elsewhere leaves no choice but the registry (written) campus; otherwise any campus of the
    province that is the school's own or accepts other schools' candidates, narrowed to the
    school's list when it has one."""
    setting = context.oral_setting
    if setting is None or not setting.allow_other_schools:
        return offering.campus_code == context.campus_code
    if offering.province_code != context.province_code:
        return False
    if offering.school_code != context.school_code and not offering.accepts_other_schools:
        return False
    return setting.allowed_campus_codes is None or offering.campus_code in setting.allowed_campus_codes


def check_campus_allowed(context: CandidateContext, offering: Offering) -> None:
    if not campus_allowed(context, offering):
        raise Refusal("campus_not_available", "不能选择该口试报名校区，请咨询学校相关老师", 403)


def check_can_enrol(context: CandidateContext, now: datetime) -> None:
    """The registration still stands and its session is open for enrolment now."""
    if context.released_at is not None:
        raise Refusal("registration_released", "报名信息已被删除（保存后24小时内未报考任何科目），请重新进行资格信息确认", 409)
    if context.published_at is None:
        raise Refusal("registration_not_open", "报名尚未开始")
    check_registration_window(now, context.registration_opens_at, context.registration_closes_at)


def check_written_offering(subject: Subject, offering: Offering | None, now: datetime) -> Offering:
    """N7: the registry campus offers the subject, inside its own time, with a fee, a seat left."""
    if offering is None:
        raise Refusal("not_offered", f"笔试报名校区未开考{subject.label}")
    if not inside(now, offering.opens_at, offering.closes_at):
        raise Refusal("campus_not_open", "该校区不在报名时间内")
    if offering.fee_fen is None or offering.fee_fen <= 0:
        raise Refusal("fee_not_set", "该科目费用未设置，暂不能报考")
    if offering.remaining == 0:
        raise seats_full()
    return offering


def check_oral_hold(context: CandidateContext, offering: Offering, now: datetime, *, need_seat: bool = True) -> None:
    """Everything a candidate's oral click checks, in order (N9, N10, N11); the waiting list
    (need_seat=False) and its promotion run exactly the same checks."""
    check_can_enrol(context, now)
    check_campus_allowed(context, offering)
    subject = offering.subject
    check_oral(
        subject,
        context.qualification_subjects,
        context.active,
        exam_date=context.exam_date(subject.code),
        offering=offering,
        now=now,
        need_seat=need_seat,
    )


# -- N13: admission ticket numbers (structure as in E10) ----------------------------------------


def ticket_number(*, province_code: str, school_code: str, campus_code: str, year: int, half: int, subject_code: str, room: int, seat: int) -> str:
    """Written: 15 digits — 1–2 region, 3–5 school, 6 campus, 7–8 year, 9 half (1 June, 2 December),
    10 subject, 11–13 room, 14–15 seat. Oral: F or S followed by the same without the subject digit."""
    if len(province_code) != 2 or len(school_code) != 5 or len(campus_code) != 6:
        raise ValueError("province, school and campus codes must have 2, 5 and 6 digits")
    if half not in (1, 2) or not 1 <= room <= 999 or not 1 <= seat <= 99:
        raise ValueError("half must be 1 or 2, room 1–999, seat 1–99")
    head = f"{province_code}{school_code[2:]}{campus_code[5]}{year % 100:02d}{half}"
    tail = f"{room:03d}{seat:02d}"
    if subject_code in ("F", "S"):
        return f"{subject_code}{head}{tail}"
    return f"{head}{subject_code}{tail}"


def room_and_seat(index: int, seats_per_room: int, first_room: int = 1) -> tuple[int, int]:
    """The index-th (0-based) candidate of a campus and subject sits here."""
    return first_room + index // seats_per_room, index % seats_per_room + 1


# -- N12: payment summary and the flow --------------------------------------------------------


def payment_summary(rows: Iterable[tuple[int, bool]]) -> tuple[str, int]:
    """(fee, paid) rows of one table → 全未支付 / 部分支付 / 全部支付 and the unpaid total in fen."""
    rows = list(rows)
    paid = sum(1 for _, p in rows if p)
    unpaid_total = sum(fee for fee, p in rows if not p)
    if not rows or paid == 0:
        status = "全未支付"
    elif paid == len(rows):
        status = "全部支付"
    else:
        status = "部分支付"
    return status, unpaid_total


@dataclass(frozen=True)
class Step:
    name: str
    state: str
    done: bool


def flow_steps(
    *,
    written: list[tuple[bool, bool]],
    oral: list[tuple[bool, bool]],
    now: datetime,
    written_tickets_open: bool,
    written_exam_day_start: datetime | None,
    last_exam_day_end: datetime | None,
) -> list[Step]:
    """口试缴费(选) → 完成报名 → 打印笔试准考证 → 参加考试 → 结束. Rows are (paid, arranged)."""
    oral_done = bool(oral) and all(p for p, _ in oral)
    registered = any(p for p, _ in written) and all(p for p, _ in written)
    printable = registered and written_tickets_open and any(p and a for p, a in written)
    sat = registered and written_exam_day_start is not None and now >= written_exam_day_start
    ended = last_exam_day_end is not None and now >= last_exam_day_end
    return [
        Step("口试缴费(选)", "已完成" if oral_done else "未完成", oral_done),
        Step("完成报名", "已完成" if registered else "未完成", registered),
        Step("打印笔试准考证", "可打印" if printable else "不可打印", printable),
        Step("参加考试", "已开始" if sat else "未开始", sat),
        Step("结束", "已结束" if ended else "未结束", ended),
    ]
