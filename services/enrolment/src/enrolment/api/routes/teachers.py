"""School teachers (role teacher, scoped to their school): collective-payment locks (N8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from enrolment.api.deps import EnrolmentDep, Teacher
from enrolment.api.schemas import LockChange
from enrolment.service import teachers

router = APIRouter(prefix="/teacher", tags=["teacher"])


@router.get("/unpaid-subjects")
async def unpaid(ctx: EnrolmentDep, principal: Teacher) -> list[dict[str, Any]]:
    return await teachers.unpaid_subjects(ctx.sessions, principal.school_code)


@router.put("/collective-lock")
async def collective_lock(body: LockChange, ctx: EnrolmentDep, principal: Teacher) -> dict[str, int]:
    """集体缴费锁定 (locked=true) or its release; only unpaid subjects of the teacher's own school."""
    return {"changed": await teachers.set_lock(ctx.unit_of_work, principal.school_code, list(body.enrolment_ids), body.locked)}
