"""CET6 qualification review (E10), the candidate's side: submit, resubmit after a rejection,
withdraw, view. Rule 1 approves at once (QualificationGranted), rule 2 waits for a teacher."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from cet_shared.clock import Clock
from cet_shared.id_types import IdType
from cet_shared.privacy import FULL_MASK
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from eligibility.domain.codes import TicketNumberInvalid, parse_ticket_number
from eligibility.domain.model import Candidate, Review
from eligibility.domain.review import Outcome, Refused, ReviewStatus, apply_rules, review_button_shown
from eligibility.service.grants import RULE1_REASON, grant
from eligibility.service.ports import EligibilityUnitOfWork, ReviewExists
from eligibility.service.registry import find_candidate, no_record
from eligibility.service.sessions import current_session
from eligibility.settings import EligibilitySettings


def not_found() -> Problem:
    return Problem(404, "review_not_found", "没有CET6资格复核申请")


def _confirm_required() -> Problem:
    return Problem(422, "confirm_required", "请勾选“我确认提交复核的信息所有者为本人，且准考证号已通过CET四级笔试(分数≥425)”")


def resubmission_limit(settings: EligibilitySettings) -> RateLimit:
    return RateLimit("cet6-resubmit", settings.review_resubmissions, settings.review_resubmission_window)


def ticket(value: str) -> str:
    try:
        return parse_ticket_number(value).value
    except TicketNumberInvalid as exc:
        raise Problem(422, "ticket_number_invalid", str(exc)) from None


def require_available(candidate: Candidate) -> None:
    if not review_button_shown(
        campus_offers_cet6=candidate.campus_offers_cet6,
        cet6_barred=candidate.student.cet6_barred,
        qualification_subjects=candidate.qualification_subjects,
    ):
        raise Problem(409, "review_not_available", "不满足CET6资格复核条件：笔试报名校区需开考CET6、考生未被限制报考CET6且尚无英语六级报考资格")


def existing_problem(status: ReviewStatus) -> Problem:
    if status is ReviewStatus.PENDING:
        return Problem(409, "review_pending_locked", "复核申请为“未复核”状态，无法修改或取消，请联系学校负责老师进行手动复核")
    if status is ReviewStatus.APPROVED:
        return Problem(409, "review_approved_frozen", "复核申请已通过，无法修改或取消")
    return Problem(409, "review_exists", "一个通行证账号只能有一条CET6资格复核申请；复核未通过的申请可以修改后重新提交或删除")


async def _candidate_for(uow: EligibilityUnitOfWork, now: datetime, passport_id: str, id_type: IdType, id_number: str, name: str) -> Candidate:
    candidate = await find_candidate(uow.registry, id_type=id_type, id_number=id_number, name=name)
    if candidate is None:
        raise no_record()
    # Once an account is bound (E6), its review is about its own candidate only.
    window = await current_session(uow, now)
    bound = None if window is None else await uow.registrations.bound(window.id, passport_id)
    if bound is not None and bound.student_id != candidate.id:
        raise Problem(403, "review_other_candidate", "只能为当前通行证账号绑定的考生申请CET6资格复核")
    return candidate


async def _judge(uow: EligibilityUnitOfWork, ticket_number: str, candidate: Candidate) -> ReviewStatus:
    """Rules 1–3 on the candidate's registry identity; rule 3 stores nothing."""
    record = await uow.registry.score(ticket_number)
    try:
        outcome = apply_rules(record, id_number=candidate.student.id_number, name=candidate.student.name)
    except Refused as refused:
        raise Problem(422, refused.code, refused.title) from None
    return ReviewStatus.APPROVED if outcome is Outcome.RULE1_APPROVED else ReviewStatus.PENDING


def _submission(candidate: Candidate, ticket_number: str, status: ReviewStatus, now: datetime) -> dict[str, Any]:
    """The fields a candidate's (re)submission sets: the registry's identity, never what was typed."""
    s = candidate.student
    approved = status is ReviewStatus.APPROVED
    return {
        "student_id": s.id,
        "school_code": s.school_code,
        "name": s.name,
        "id_type": s.id_type,
        "id_number": s.id_number,
        "ticket_number": ticket_number,
        "status": status,
        "submitted_at": now,
        "rule": (Outcome.RULE1_APPROVED if approved else Outcome.RULE2_PENDING).value,
        "decided_by": "system" if approved else None,
        "decided_at": now if approved else None,
        "decision_note": None,
    }


def decision_view(status: ReviewStatus, granted: list[str] | None = None) -> dict[str, Any]:
    messages = {
        ReviewStatus.APPROVED: "提交成功，系统自动复核通过，已获得英语六级报考资格",
        ReviewStatus.PENDING: "提交成功，复核状态为“未复核”，请联系学校负责老师进行手动复核",
    }
    return {"message": messages[status], "status": status.value, "status_label": status.label, "granted_subjects": granted or []}


async def submit(
    uow: EligibilityUnitOfWork, clock: Clock, *, passport_id: str, id_type: IdType, id_number: str, name: str, ticket_number: str, confirmed: bool
) -> dict[str, Any]:
    """E10 新增CET6资格复核申请: rule 1 approves at once, rule 2 waits for a teacher, rule 3 stores nothing."""
    if not confirmed:
        raise _confirm_required()
    number = ticket(ticket_number)
    now = clock.now()
    async with uow:
        candidate = await _candidate_for(uow, now, passport_id, id_type, id_number, name)
        existing = await uow.reviews.of_account(passport_id)
        if existing is not None:
            raise existing_problem(existing.status)
        require_available(candidate)
        status = await _judge(uow, number, candidate)
        try:
            await uow.reviews.add(Review(id=uuid.uuid4(), passport_id=passport_id, submitted_by=passport_id, **_submission(candidate, number, status, now)))
        except ReviewExists:
            raise Problem(409, "review_exists", "一个通行证账号只能有一条CET6资格复核申请") from None
        granted = None
        if status is ReviewStatus.APPROVED:
            granted = await grant(uow, student_id=candidate.id, registry_subjects=candidate.qualification_subjects, reason=RULE1_REASON, now=now)
        await uow.commit()
    return decision_view(status, granted)


async def _own_rejected(uow: EligibilityUnitOfWork, passport_id: str) -> Review:
    review = await uow.reviews.of_account(passport_id, for_update=True)
    if review is None:
        raise not_found()
    if review.status is not ReviewStatus.REJECTED:
        raise existing_problem(review.status)
    return review


async def resubmit(
    uow: EligibilityUnitOfWork,
    clock: Clock,
    settings: EligibilitySettings,
    *,
    passport_id: str,
    id_type: IdType,
    id_number: str,
    name: str,
    ticket_number: str,
    confirmed: bool,
) -> dict[str, Any]:
    """E10: after a rejection the candidate may edit and resubmit; repeated resubmission is throttled.
    A resubmission refused by rule 3 leaves the rejected application as it was."""
    if not confirmed:
        raise _confirm_required()
    number = ticket(ticket_number)
    async with uow:  # the attempt counts even when rule 3 refuses it
        await _own_rejected(uow, passport_id)
        await uow.throttles.consume(resubmission_limit(settings), passport_id, clock=clock)
        await uow.commit()
    now = clock.now()
    async with uow:
        review = await _own_rejected(uow, passport_id)
        candidate = await _candidate_for(uow, now, passport_id, id_type, id_number, name)
        require_available(candidate)
        status = await _judge(uow, number, candidate)
        await uow.reviews.save(replace(review, submissions=review.submissions + 1, **_submission(candidate, number, status, now)))
        granted = None
        if status is ReviewStatus.APPROVED:
            granted = await grant(uow, student_id=candidate.id, registry_subjects=candidate.qualification_subjects, reason=RULE1_REASON, now=now)
        await uow.commit()
    return decision_view(status, granted)


async def withdraw(uow: EligibilityUnitOfWork, *, passport_id: str) -> None:
    """E10: only a rejected application can be deleted; pending is locked, approved is frozen."""
    async with uow:
        review = await _own_rejected(uow, passport_id)
        await uow.reviews.delete(review.id)
        await uow.commit()


async def view(uow: EligibilityUnitOfWork, *, passport_id: str) -> dict[str, Any]:
    """E10 查看复核申请信息: every field masked, the status shown."""
    async with uow:
        review = await uow.reviews.of_account(passport_id)
    if review is None:
        raise not_found()
    status = review.status
    return {
        "name": FULL_MASK,
        "id_type": FULL_MASK,
        "id_number": FULL_MASK,
        "ticket_number": FULL_MASK,
        "status": status.value,
        "status_label": status.label,
        "decision_note": review.decision_note if status is ReviewStatus.REJECTED else None,
        "can_edit": status is ReviewStatus.REJECTED,
        "can_delete": status is ReviewStatus.REJECTED,
    }
