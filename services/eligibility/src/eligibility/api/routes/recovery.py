"""找回已报名账号 (E11): open to anyone, protected by the captcha and a per-client limit."""

from __future__ import annotations

from fastapi import APIRouter

from cet_shared.contract import problems
from eligibility.api.deps import ClientAddress, EligibilityDep, UnitOfWorkDep
from eligibility.api.responses import RecoveryAnswer
from eligibility.api.schemas import RecoveryRequest
from eligibility.service import recovery as service

router = APIRouter(tags=["account-recovery"])


@router.post("/account-recovery", response_model=RecoveryAnswer, summary="找回已报名账号", responses=problems(400, 429))
async def recover(body: RecoveryRequest, uow: UnitOfWorkDep, ctx: EligibilityDep, client: ClientAddress) -> dict:
    """E11：凭证件与姓名（及验证码）找回最近考次报名时所用的账号邮箱（已遮盖）。"""
    return await service.recover(
        uow,
        ctx.clock,
        ctx.settings,
        ctx.captcha,
        client=client,
        id_type=body.id_type,
        id_number=body.id_number,
        name=body.name,
        captcha_token=body.captcha_token,
        captcha_answer=body.captcha_answer,
    )
