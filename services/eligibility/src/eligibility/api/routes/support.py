"""Support's tools: find a caller's registrations, rebind one to a new passport account (E12)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from cet_shared.contract import link, problems
from eligibility.api.deps import ClockDep, Support, UnitOfWorkDep
from eligibility.api.responses import FoundRegistrations, Rebound
from eligibility.api.schemas import RebindRequest, SupportSearch
from eligibility.service import rebinding as service

router = APIRouter(tags=["support"])


@router.post(
    "/support/registrations/search",
    response_model=FoundRegistrations,
    summary="客服：按证件查找报名信息",
    responses={
        200: {
            "description": "找到的报名信息（已遮盖）",
            "links": {
                "rebind": link(
                    "rebind", "把找到的报名信息重新绑定到另一个通行证账号", parameters={"registration_id": "$response.body#/items/0/registration_id"}
                )
            },
        }
    },
)
async def search(body: SupportSearch, uow: UnitOfWorkDep, principal: Support) -> FoundRegistrations:
    """POST 而非查询字符串：证件号码不进入网址、访问日志和链路追踪。"""
    return FoundRegistrations(items=await service.find_registrations(uow, id_type=body.id_type, id_number=body.id_number))


@router.post("/support/registrations/{registration_id}/rebind", response_model=Rebound, summary="客服：重新绑定报名信息", responses=problems(404, 409))
async def rebind(registration_id: uuid.UUID, body: RebindRequest, uow: UnitOfWorkDep, clock: ClockDep, principal: Support) -> Rebound:
    """E12：把报名信息移到另一个通行证账号；留痕并发布 RegistrationRebound。"""
    done = await service.rebind(
        uow, clock, actor=principal.passport_id, registration_id=registration_id, new_passport_id=body.new_passport_id, reason=body.reason
    )
    return Rebound(message="重新绑定成功", registration_id=done.registration_id, old_passport_id=done.old_passport_id, new_passport_id=done.new_passport_id)
