"""CET6 qualification review (E10): the candidate's application, the teacher's review and the
teacher's application on a candidate's behalf; QualificationGranted on approval."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared import audit
from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import QualificationGranted
from cet_shared.id_types import IdType
from cet_shared.privacy import FULL_MASK, mask_id_number
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from eligibility.bootstrap import Eligibility
from eligibility.db.tables import cet4_scores, cet6_reviews, qualification_grants, registrations
from eligibility.domain.codes import TicketNumberInvalid, parse_ticket_number, sort_subjects
from eligibility.domain.review import (
    Outcome,
    Refused,
    ReviewStatus,
    ScoreRecord,
    apply_rules,
    granted_subjects,
    review_button_shown,
)
from eligibility.service.registry import Candidate, candidate_by_id, find_candidate, no_record
from eligibility.service.sessions import current_session

RULE1_REASON = "cet6_review_rule1"
TEACHER_REASON = "cet6_review_teacher"


def _not_found() -> Problem:
    return Problem(404, "review_not_found", "没有CET6资格复核申请")


def _confirm_required() -> Problem:
    return Problem(422, "confirm_required", "请勾选“我确认提交复核的信息所有者为本人，且准考证号已通过CET四级笔试(分数≥425)”")


def resubmission_limit(ctx: Eligibility) -> RateLimit:
    return RateLimit("cet6-resubmit", ctx.settings.review_resubmissions, ctx.settings.review_resubmission_window)


def _ticket(value: str) -> str:
    try:
        return parse_ticket_number(value).value
    except TicketNumberInvalid as exc:
        raise Problem(422, "ticket_number_invalid", str(exc)) from None


def _require_available(candidate: Candidate) -> None:
    if not review_button_shown(
        campus_offers_cet6=candidate.campus_offers_cet6,
        cet6_barred=candidate.row.cet6_barred,
        qualification_subjects=candidate.qualification_subjects,
    ):
        raise Problem(409, "review_not_available", "不满足CET6资格复核条件：笔试报名校区需开考CET6、考生未被限制报考CET6且尚无英语六级报考资格")


async def _candidate_for(ctx: Eligibility, session: AsyncSession, passport_id: str, id_type: IdType, id_number: str, name: str) -> Candidate:
    candidate = await find_candidate(session, id_type=id_type, id_number=id_number, name=name)
    if candidate is None:
        raise no_record()
    # Once an account is bound (E6), its review is about its own candidate only.
    window = await current_session(session, ctx.clock.now())
    if window is not None:
        bound = await session.scalar(
            select(registrations.c.student_id).where(registrations.c.exam_session_id == window.id, registrations.c.passport_id == passport_id)
        )
        if bound is not None and bound != candidate.id:
            raise Problem(403, "review_other_candidate", "只能为当前通行证账号绑定的考生申请CET6资格复核")
    return candidate


async def _judge(session: AsyncSession, ticket_number: str, *, id_number: str, name: str) -> Outcome:
    row = (await session.execute(select(cet4_scores).where(cet4_scores.c.ticket_number == ticket_number))).first()
    record = None if row is None else ScoreRecord(row.ticket_number, row.id_number, row.name, row.score, row.year)
    try:
        return apply_rules(record, id_number=id_number, name=name)
    except Refused as refused:
        raise Problem(422, refused.code, refused.title) from None


async def grant(uow: UnitOfWork, *, student_id: uuid.UUID, registry_subjects: list[str], reason: str, now: Any) -> list[str]:
    """Record the grant on the student (so later saves include it) and add it to every saved
    registration of theirs, announcing each with QualificationGranted."""
    session = uow.session
    granted = granted_subjects(registry_subjects)
    await session.execute(
        pg_insert(qualification_grants)
        .values([{"student_id": student_id, "subject_code": code, "reason": reason, "granted_at": now} for code in granted])
        .on_conflict_do_nothing()
    )
    rows = (
        await session.execute(
            select(registrations.c.id, registrations.c.qualification_subjects).where(registrations.c.student_id == student_id).with_for_update()
        )
    ).all()
    for row in rows:
        added = [code for code in granted if code not in row.qualification_subjects]
        if not added:
            continue
        await session.execute(
            update(registrations)
            .where(registrations.c.id == row.id)
            .values(qualification_subjects=sort_subjects(set(row.qualification_subjects) | set(added)))
        )
        await uow.publish(QualificationGranted(registration_id=row.id, subject_codes=added, reason=reason), key=str(row.id))
    return granted


def _result(status: ReviewStatus, granted: list[str] | None = None) -> dict[str, Any]:
    messages = {
        ReviewStatus.APPROVED: "提交成功，系统自动复核通过，已获得英语六级报考资格",
        ReviewStatus.PENDING: "提交成功，复核状态为“未复核”，请联系学校负责老师进行手动复核",
    }
    return {"message": messages[status], "status": status.value, "status_label": status.label, "granted_subjects": granted or []}


async def submit(
    ctx: Eligibility, *, passport_id: str, id_type: IdType, id_number: str, name: str, ticket_number: str, confirmed: bool
) -> dict[str, Any]:
    """E10 新增CET6资格复核申请: rule 1 approves at once, rule 2 waits for a teacher, rule 3 stores nothing."""
    if not confirmed:
        raise _confirm_required()
    ticket = _ticket(ticket_number)
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        candidate = await _candidate_for(ctx, session, passport_id, id_type, id_number, name)
        existing = (await session.execute(select(cet6_reviews).where(cet6_reviews.c.passport_id == passport_id))).first()
        if existing is not None:
            raise _existing_problem(existing.status)
        _require_available(candidate)
        outcome = await _judge(session, ticket, id_number=candidate.row.id_number, name=candidate.row.name)
        status = ReviewStatus.APPROVED if outcome is Outcome.RULE1_APPROVED else ReviewStatus.PENDING
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(cet6_reviews).values(
                        id=uuid.uuid4(), passport_id=passport_id, student_id=candidate.id, school_code=candidate.row.school_code,
                        name=candidate.row.name, id_type=candidate.row.id_type, id_number=candidate.row.id_number,
                        ticket_number=ticket, status=status.value, rule=outcome.value, submitted_by=passport_id, submitted_at=now,
                        decided_by="system" if status is ReviewStatus.APPROVED else None,
                        decided_at=now if status is ReviewStatus.APPROVED else None,
                    )
                )
        except IntegrityError:
            raise Problem(409, "review_exists", "一个通行证账号只能有一条CET6资格复核申请") from None
        granted = None
        if status is ReviewStatus.APPROVED:
            granted = await grant(uow, student_id=candidate.id, registry_subjects=candidate.qualification_subjects, reason=RULE1_REASON, now=now)
        await uow.commit()
    return _result(status, granted)


def _existing_problem(status: str) -> Problem:
    if status == ReviewStatus.PENDING:
        return Problem(409, "review_pending_locked", "复核申请为“未复核”状态，无法修改或取消，请联系学校负责老师进行手动复核")
    if status == ReviewStatus.APPROVED:
        return Problem(409, "review_approved_frozen", "复核申请已通过，无法修改或取消")
    return Problem(409, "review_exists", "一个通行证账号只能有一条CET6资格复核申请；复核未通过的申请可以修改后重新提交或删除")


async def _own_rejected(session: AsyncSession, passport_id: str) -> Any:
    row = (await session.execute(select(cet6_reviews).where(cet6_reviews.c.passport_id == passport_id).with_for_update())).first()
    if row is None:
        raise _not_found()
    if row.status != ReviewStatus.REJECTED:
        raise _existing_problem(row.status)
    return row


async def resubmit(
    ctx: Eligibility, *, passport_id: str, id_type: IdType, id_number: str, name: str, ticket_number: str, confirmed: bool
) -> dict[str, Any]:
    """E10: after a rejection the candidate may edit and resubmit; repeated resubmission is throttled.
    A resubmission refused by rule 3 leaves the rejected application as it was."""
    if not confirmed:
        raise _confirm_required()
    ticket = _ticket(ticket_number)
    async with ctx.sessions() as session, session.begin():
        await _own_rejected(session, passport_id)
        await resubmission_limit(ctx).consume(session, passport_id, clock=ctx.clock)
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        existing = await _own_rejected(session, passport_id)
        candidate = await _candidate_for(ctx, session, passport_id, id_type, id_number, name)
        _require_available(candidate)
        outcome = await _judge(session, ticket, id_number=candidate.row.id_number, name=candidate.row.name)
        status = ReviewStatus.APPROVED if outcome is Outcome.RULE1_APPROVED else ReviewStatus.PENDING
        await session.execute(
            update(cet6_reviews)
            .where(cet6_reviews.c.id == existing.id)
            .values(
                student_id=candidate.id, school_code=candidate.row.school_code, name=candidate.row.name,
                id_type=candidate.row.id_type, id_number=candidate.row.id_number, ticket_number=ticket, status=status.value,
                rule=outcome.value, submitted_at=now, submissions=cet6_reviews.c.submissions + 1,
                decided_by="system" if status is ReviewStatus.APPROVED else None,
                decided_at=now if status is ReviewStatus.APPROVED else None, decision_note=None,
            )
        )
        granted = None
        if status is ReviewStatus.APPROVED:
            granted = await grant(uow, student_id=candidate.id, registry_subjects=candidate.qualification_subjects, reason=RULE1_REASON, now=now)
        await uow.commit()
    return _result(status, granted)


async def withdraw(ctx: Eligibility, *, passport_id: str) -> None:
    """E10: only a rejected application can be deleted; pending is locked, approved is frozen."""
    async with ctx.unit_of_work() as uow:
        row = await _own_rejected(uow.session, passport_id)
        await uow.session.execute(delete(cet6_reviews).where(cet6_reviews.c.id == row.id))
        await uow.commit()


async def view(ctx: Eligibility, *, passport_id: str) -> dict[str, Any]:
    """E10 查看复核申请信息: every field masked, the status shown."""
    async with ctx.sessions() as session:
        row = (await session.execute(select(cet6_reviews).where(cet6_reviews.c.passport_id == passport_id))).first()
    if row is None:
        raise _not_found()
    status = ReviewStatus(row.status)
    return {
        "name": FULL_MASK,
        "id_type": FULL_MASK,
        "id_number": FULL_MASK,
        "ticket_number": FULL_MASK,
        "status": status.value,
        "status_label": status.label,
        "decision_note": row.decision_note if status is ReviewStatus.REJECTED else None,
        "can_edit": status is ReviewStatus.REJECTED,
        "can_delete": status is ReviewStatus.REJECTED,
    }


# -- the school teacher ------------------------------------------------------------------------------

def _teacher_school(school_code: str | None) -> str:
    if not school_code:
        raise Problem(403, "teacher_without_school", "教师账号未关联学校")
    return school_code


async def teacher_list(ctx: Eligibility, *, school_code: str | None, status: ReviewStatus | None) -> list[dict[str, Any]]:
    """The teacher's own school's applications only; ID numbers masked."""
    school = _teacher_school(school_code)
    query = select(cet6_reviews).where(cet6_reviews.c.school_code == school).order_by(cet6_reviews.c.submitted_at)
    if status is not None:
        query = query.where(cet6_reviews.c.status == status.value)
    async with ctx.sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        {
            "id": str(r.id),
            "name": r.name,
            "id_type_label": IdType(r.id_type).label,
            "id_number": mask_id_number(r.id_number),
            "ticket_number": r.ticket_number,
            "status": r.status,
            "status_label": ReviewStatus(r.status).label,
            "rule": r.rule,
            "submissions": r.submissions,
            "submitted_at": r.submitted_at,
        }
        for r in rows
    ]


async def teacher_decide(ctx: Eligibility, *, teacher: str, school_code: str | None, review_id: uuid.UUID, approve: bool, note: str | None) -> dict[str, Any]:
    """E10 rule 2: a teacher of the candidate's school approves (qualification granted) or rejects."""
    school = _teacher_school(school_code)
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        row = (
            await session.execute(
                select(cet6_reviews).where(cet6_reviews.c.id == review_id, cet6_reviews.c.school_code == school).with_for_update()
            )
        ).first()
        if row is None:
            raise _not_found()  # another school's application is not even visible
        if row.status != ReviewStatus.PENDING:
            raise Problem(409, "review_not_pending", "只能复核“未复核”状态的申请")
        status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        await session.execute(
            update(cet6_reviews)
            .where(cet6_reviews.c.id == review_id)
            .values(status=status.value, decided_by=teacher, decided_at=now, decision_note=note)
        )
        granted: list[str] = []
        if approve:
            candidate_subjects = await _student_subjects(session, row.student_id)
            granted = await grant(uow, student_id=row.student_id, registry_subjects=candidate_subjects, reason=TEACHER_REASON, now=now)
        await audit.record(session, "review.decided", ("cet6_review", review_id), before={"status": row.status}, after={"status": status.value, "note": note, "granted": granted}, candidate=row.passport_id, school=school)
        await uow.commit()
    return {"id": str(review_id), "status": status.value, "status_label": status.label, "granted_subjects": granted}


async def _student_subjects(session: AsyncSession, student_id: uuid.UUID) -> list[str]:
    candidate = await candidate_by_id(session, student_id)
    return candidate.qualification_subjects if candidate else []


async def teacher_submit(
    ctx: Eligibility, *, teacher: str, school_code: str | None, id_type: IdType, id_number: str, name: str, ticket_number: str | None, note: str
) -> dict[str, Any]:
    """E10: scores before 2005 or a forgotten ticket number — the teacher, having seen the proof,
    applies for the candidate; the application is approved at once and frozen."""
    school = _teacher_school(school_code)
    ticket = _ticket(ticket_number) if ticket_number else None
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        candidate = await find_candidate(session, id_type=id_type, id_number=id_number, name=name)
        if candidate is None or candidate.row.school_code != school:
            raise no_record()
        # The application belongs to the account the candidate's latest registration is bound to.
        passport_id = await session.scalar(
            select(registrations.c.passport_id).where(registrations.c.student_id == candidate.id).order_by(registrations.c.saved_at.desc()).limit(1)
        )
        owner = cet6_reviews.c.passport_id == passport_id if passport_id else (cet6_reviews.c.student_id == candidate.id) & cet6_reviews.c.passport_id.is_(None)
        existing = (await session.execute(select(cet6_reviews).where(owner).with_for_update())).first()
        if existing is not None and existing.status == ReviewStatus.APPROVED:
            raise _existing_problem(existing.status)
        _require_available(candidate)
        values = dict(
            student_id=candidate.id, school_code=school, name=candidate.row.name, id_type=candidate.row.id_type,
            id_number=candidate.row.id_number, ticket_number=ticket, status=ReviewStatus.APPROVED.value, rule="teacher",
            submitted_by=teacher, submitted_at=now, decided_by=teacher, decided_at=now, decision_note=note,
        )
        if existing is None:
            await session.execute(insert(cet6_reviews).values(id=uuid.uuid4(), passport_id=passport_id, **values))
        else:
            await session.execute(update(cet6_reviews).where(cet6_reviews.c.id == existing.id).values(**values))
        granted = await grant(uow, student_id=candidate.id, registry_subjects=candidate.qualification_subjects, reason=TEACHER_REASON, now=now)
        await audit.record(session, "review.submitted_by_teacher", ("student", candidate.id), before={"status": existing.status} if existing else None, after={"status": ReviewStatus.APPROVED.value, "note": note, "granted": granted}, candidate=passport_id, school=school)
        await uow.commit()
    return _result(ReviewStatus.APPROVED, granted)
