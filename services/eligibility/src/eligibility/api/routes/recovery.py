"""找回已报名账号 (E11): open to anyone, protected by the captcha and a per-client limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from eligibility.api.deps import ClientAddress, EligibilityDep, UnitOfWorkDep
from eligibility.api.schemas import RecoveryRequest
from eligibility.service import recovery as service

router = APIRouter(tags=["account-recovery"])


@router.post("/account-recovery")
async def recover(body: RecoveryRequest, uow: UnitOfWorkDep, ctx: EligibilityDep, client: ClientAddress) -> dict[str, Any]:
    return await service.recover(
        uow, ctx.clock, ctx.settings, ctx.captcha, client=client, id_type=body.id_type, id_number=body.id_number, name=body.name,
        captcha_token=body.captcha_token, captcha_answer=body.captcha_answer,
    )
