"""School teachers (role teacher, scoped to their school): collective-payment locks (N8)."""

from __future__ import annotations

from fastapi import APIRouter

from enrolment.api.deps import EnrolmentDep, Teacher
from enrolment.api.responses import LocksChanged, UnpaidSubject
from enrolment.api.schemas import LockChange
from enrolment.service import teachers

router = APIRouter(prefix="/teacher", tags=["teacher"])


@router.get("/unpaid-subjects", response_model=list[UnpaidSubject], summary="老师：本校未支付的科目")
async def unpaid(ctx: EnrolmentDep, principal: Teacher) -> list[dict]:
    """本校考生未支付的科目（最多 5000 条），供集体缴费。"""
    return await teachers.unpaid_subjects(ctx.sessions, principal.school_code)


@router.put("/collective-lock", response_model=LocksChanged, summary="老师：集体缴费锁定或解除")
async def collective_lock(body: LockChange, ctx: EnrolmentDep, principal: Teacher) -> LocksChanged:
    """集体缴费锁定（locked=true）或解除；只限本校未支付的科目。"""
    return LocksChanged(changed=await teachers.set_lock(ctx.unit_of_work, principal.school_code, list(body.enrolment_ids), body.locked))
