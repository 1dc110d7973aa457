"""CET6 资格复核 (E10): the candidate's application and the school teacher's side."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from cet_shared.contract import problems
from eligibility.api.deps import Candidate, ClockDep, SettingsDep, Teacher, UnitOfWorkDep
from eligibility.api.responses import ReviewResult, ReviewView, TeacherDecision, TeacherReviewList
from eligibility.api.schemas import Decision, ReviewRequest, TeacherReviewRequest
from eligibility.domain.review import ReviewStatus
from eligibility.service import review as service, teacher_review

router = APIRouter(tags=["cet6-review"])


@router.get("/cet6-review", response_model=ReviewView, summary="查看复核申请", responses=problems(404))
async def view(uow: UnitOfWorkDep, principal: Candidate) -> dict:
    """查看复核申请信息：各项均已遮盖，显示复核状态。"""
    return await service.view(uow, passport_id=principal.passport_id)


@router.post("/cet6-review", response_model=ReviewResult, status_code=status.HTTP_201_CREATED, summary="保存并提交复核", responses=problems(404, 409))
async def submit(body: ReviewRequest, uow: UnitOfWorkDep, clock: ClockDep, principal: Candidate) -> dict:
    """E10：规则一当即通过，规则二等待学校老师复核，规则三不保存。"""
    return await service.submit(
        uow,
        clock,
        passport_id=principal.passport_id,
        id_type=body.id_type,
        id_number=body.id_number,
        name=body.name,
        ticket_number=body.ticket_number,
        confirmed=body.confirmed,
    )


@router.put("/cet6-review", response_model=ReviewResult, summary="修改后重新提交复核", responses=problems(404, 409, 429))
async def resubmit(body: ReviewRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict:
    """复核未通过后：修改并重新提交（限制次数）。"""
    return await service.resubmit(
        uow,
        clock,
        settings,
        passport_id=principal.passport_id,
        id_type=body.id_type,
        id_number=body.id_number,
        name=body.name,
        ticket_number=body.ticket_number,
        confirmed=body.confirmed,
    )


@router.delete("/cet6-review", status_code=status.HTTP_204_NO_CONTENT, summary="删除复核申请", responses=problems(404, 409))
async def withdraw(uow: UnitOfWorkDep, principal: Candidate) -> Response:
    """复核未通过后：删除该申请。"""
    await service.withdraw(uow, passport_id=principal.passport_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/teacher/cet6-reviews", response_model=TeacherReviewList, summary="老师：本校的复核申请")
async def teacher_list(uow: UnitOfWorkDep, principal: Teacher, status: ReviewStatus | None = None) -> TeacherReviewList:
    """本校考生的复核申请，可按状态筛选。"""
    return TeacherReviewList(items=await teacher_review.teacher_list(uow, school_code=principal.school_code, status=status))


@router.post("/teacher/cet6-reviews/{review_id}/approve", response_model=TeacherDecision, summary="老师：复核通过", responses=problems(404, 409))
async def approve(review_id: uuid.UUID, body: Decision, uow: UnitOfWorkDep, clock: ClockDep, principal: Teacher) -> dict:
    """E10 规则二：本校老师复核通过，考生获得英语六级报考资格。"""
    return await teacher_review.teacher_decide(
        uow, clock, teacher=principal.passport_id, school_code=principal.school_code, review_id=review_id, approve=True, note=body.note
    )


@router.post("/teacher/cet6-reviews/{review_id}/reject", response_model=TeacherDecision, summary="老师：复核不通过", responses=problems(404, 409))
async def reject(review_id: uuid.UUID, body: Decision, uow: UnitOfWorkDep, clock: ClockDep, principal: Teacher) -> dict:
    """E10 规则二：本校老师复核不通过（可附说明）。"""
    return await teacher_review.teacher_decide(
        uow, clock, teacher=principal.passport_id, school_code=principal.school_code, review_id=review_id, approve=False, note=body.note
    )


@router.post(
    "/teacher/cet6-reviews",
    response_model=ReviewResult,
    status_code=status.HTTP_201_CREATED,
    summary="老师：代考生申请复核",
    responses=problems(404, 409),
)
async def teacher_submit(body: TeacherReviewRequest, uow: UnitOfWorkDep, clock: ClockDep, principal: Teacher) -> dict:
    """2005 年以前的成绩或忘记准考证号：由学校老师代考生申请。"""
    return await teacher_review.teacher_submit(
        uow,
        clock,
        teacher=principal.passport_id,
        school_code=principal.school_code,
        id_type=body.id_type,
        id_number=body.id_number,
        name=body.name,
        ticket_number=body.ticket_number,
        note=body.note,
    )
