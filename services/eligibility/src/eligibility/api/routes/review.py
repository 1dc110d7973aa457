"""CET6 资格复核 (E10): the candidate's application and the school teacher's side."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from eligibility.api.deps import Candidate, ClockDep, SettingsDep, Teacher, UnitOfWorkDep
from eligibility.api.schemas import Decision, ReviewRequest, TeacherReviewRequest
from eligibility.domain.review import ReviewStatus
from eligibility.service import review as service
from eligibility.service import teacher_review

router = APIRouter(tags=["cet6-review"])


@router.get("/cet6-review")
async def view(uow: UnitOfWorkDep, principal: Candidate) -> dict[str, Any]:
    """查看复核申请信息: every field masked, the status shown."""
    return await service.view(uow, passport_id=principal.passport_id)


@router.post("/cet6-review", status_code=status.HTTP_201_CREATED)
async def submit(body: ReviewRequest, uow: UnitOfWorkDep, clock: ClockDep, principal: Candidate) -> dict[str, Any]:
    """保存并提交复核."""
    return await service.submit(
        uow, clock, passport_id=principal.passport_id, id_type=body.id_type, id_number=body.id_number, name=body.name,
        ticket_number=body.ticket_number, confirmed=body.confirmed,
    )


@router.put("/cet6-review")
async def resubmit(body: ReviewRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict[str, Any]:
    """After a rejection: edit and resubmit (throttled)."""
    return await service.resubmit(
        uow, clock, settings, passport_id=principal.passport_id, id_type=body.id_type, id_number=body.id_number, name=body.name,
        ticket_number=body.ticket_number, confirmed=body.confirmed,
    )


@router.delete("/cet6-review", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw(uow: UnitOfWorkDep, principal: Candidate) -> Response:
    """After a rejection: delete the application."""
    await service.withdraw(uow, passport_id=principal.passport_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/teacher/cet6-reviews")
async def teacher_list(uow: UnitOfWorkDep, principal: Teacher, status: ReviewStatus | None = None) -> dict[str, Any]:
    return {"items": await teacher_review.teacher_list(uow, school_code=principal.school_code, status=status)}


@router.post("/teacher/cet6-reviews/{review_id}/approve")
async def approve(review_id: uuid.UUID, body: Decision, uow: UnitOfWorkDep, clock: ClockDep, principal: Teacher) -> dict[str, Any]:
    return await teacher_review.teacher_decide(
        uow, clock, teacher=principal.passport_id, school_code=principal.school_code, review_id=review_id, approve=True, note=body.note
    )


@router.post("/teacher/cet6-reviews/{review_id}/reject")
async def reject(review_id: uuid.UUID, body: Decision, uow: UnitOfWorkDep, clock: ClockDep, principal: Teacher) -> dict[str, Any]:
    return await teacher_review.teacher_decide(
        uow, clock, teacher=principal.passport_id, school_code=principal.school_code, review_id=review_id, approve=False, note=body.note
    )


@router.post("/teacher/cet6-reviews", status_code=status.HTTP_201_CREATED)
async def teacher_submit(body: TeacherReviewRequest, uow: UnitOfWorkDep, clock: ClockDep, principal: Teacher) -> dict[str, Any]:
    """Scores before 2005 or a forgotten ticket number: the teacher applies for the candidate."""
    return await teacher_review.teacher_submit(
        uow, clock, teacher=principal.passport_id, school_code=principal.school_code, id_type=body.id_type, id_number=body.id_number,
        name=body.name, ticket_number=body.ticket_number, note=body.note,
    )
