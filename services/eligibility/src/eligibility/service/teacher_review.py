"""CET6 qualification review (E10), the school teacher's side: the school's applications, the
decision on a rule-2 application, and an application on a candidate's behalf."""

from __future__ import annotations

import uuid
from typing import Any

from cet_shared.clock import Clock
from cet_shared.id_types import IdType
from cet_shared.privacy import mask_id_number
from cet_shared.problems import Problem
from eligibility.domain.model import Review
from eligibility.domain.review import ReviewStatus
from eligibility.service.grants import TEACHER_REASON, grant
from eligibility.service.ports import EligibilityUnitOfWork
from eligibility.service.registry import find_candidate, no_record
from eligibility.service.review import decision_view, existing_problem, not_found, require_available, ticket


def _teacher_school(school_code: str | None) -> str:
    if not school_code:
        raise Problem(403, "teacher_without_school", "教师账号未关联学校")
    return school_code


async def teacher_list(uow: EligibilityUnitOfWork, *, school_code: str | None, status: ReviewStatus | None) -> list[dict[str, Any]]:
    """The teacher's own school's applications only; ID numbers masked."""
    school = _teacher_school(school_code)
    async with uow:
        reviews = await uow.reviews.list_school(school, status)
    return [
        {
            "id": str(r.id),
            "name": r.name,
            "id_type_label": IdType(r.id_type).label,
            "id_number": mask_id_number(r.id_number),
            "ticket_number": r.ticket_number,
            "status": r.status.value,
            "status_label": r.status.label,
            "rule": r.rule,
            "submissions": r.submissions,
            "submitted_at": r.submitted_at,
        }
        for r in reviews
    ]


async def teacher_decide(
    uow: EligibilityUnitOfWork, clock: Clock, *, teacher: str, school_code: str | None, review_id: uuid.UUID, approve: bool, note: str | None
) -> dict[str, Any]:
    """E10 rule 2: a teacher of the candidate's school approves (qualification granted) or rejects."""
    school = _teacher_school(school_code)
    now = clock.now()
    async with uow:
        review = await uow.reviews.in_school(review_id, school)
        if review is None:
            raise not_found()  # another school's application is not even visible
        if review.status is not ReviewStatus.PENDING:
            raise Problem(409, "review_not_pending", "只能复核“未复核”状态的申请")
        before = review.status.value
        status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        review.status, review.decided_by, review.decided_at, review.decision_note = status, teacher, now, note
        await uow.reviews.save(review)
        granted: list[str] = []
        if approve:
            candidate = await uow.registry.by_id(review.student_id)
            subjects = candidate.qualification_subjects if candidate else []
            granted = await grant(uow, student_id=review.student_id, registry_subjects=subjects, reason=TEACHER_REASON, now=now)
        await uow.audit.record(
            "review.decided",
            ("cet6_review", review_id),
            before={"status": before},
            after={"status": status.value, "note": note, "granted": granted},
            candidate=review.passport_id,
            school=school,
        )
        await uow.commit()
    return {"id": str(review_id), "status": status.value, "status_label": status.label, "granted_subjects": granted}


async def teacher_submit(
    uow: EligibilityUnitOfWork,
    clock: Clock,
    *,
    teacher: str,
    school_code: str | None,
    id_type: IdType,
    id_number: str,
    name: str,
    ticket_number: str | None,
    note: str,
) -> dict[str, Any]:
    """E10: scores before 2005 or a forgotten ticket number — the teacher, having seen the proof,
    applies for the candidate; the application is approved at once and frozen."""
    school = _teacher_school(school_code)
    number = ticket(ticket_number) if ticket_number else None
    now = clock.now()
    async with uow:
        candidate = await find_candidate(uow.registry, id_type=id_type, id_number=id_number, name=name)
        if candidate is None or candidate.student.school_code != school:
            raise no_record()
        # The application belongs to the account the candidate's latest registration is bound to.
        passport_id = await uow.registrations.latest_passport_of(candidate.id)
        existing = await (uow.reviews.of_account(passport_id, for_update=True) if passport_id else uow.reviews.unclaimed_of(candidate.id))
        if existing is not None and existing.status is ReviewStatus.APPROVED:
            raise existing_problem(existing.status)
        require_available(candidate)
        s = candidate.student
        review = Review(
            id=existing.id if existing else uuid.uuid4(),
            passport_id=existing.passport_id if existing else passport_id,
            student_id=s.id,
            school_code=school,
            name=s.name,
            id_type=s.id_type,
            id_number=s.id_number,
            ticket_number=number,
            status=ReviewStatus.APPROVED,
            rule="teacher",
            submitted_by=teacher,
            submitted_at=now,
            submissions=existing.submissions if existing else 1,
            decided_by=teacher,
            decided_at=now,
            decision_note=note,
        )
        await (uow.reviews.save(review) if existing else uow.reviews.add(review))
        granted = await grant(uow, student_id=candidate.id, registry_subjects=candidate.qualification_subjects, reason=TEACHER_REASON, now=now)
        await uow.audit.record(
            "review.submitted_by_teacher",
            ("student", candidate.id),
            before={"status": existing.status.value} if existing else None,
            after={"status": ReviewStatus.APPROVED.value, "note": note, "granted": granted},
            candidate=passport_id,
            school=school,
        )
        await uow.commit()
    return decision_view(ReviewStatus.APPROVED, granted)
