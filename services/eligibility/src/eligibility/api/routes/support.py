"""Support's tools: find a caller's registrations, rebind one to a new passport account (E12)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from eligibility.api.deps import ClockDep, Support, UnitOfWorkDep
from eligibility.api.schemas import RebindRequest, SupportSearch
from eligibility.service import rebinding as service

router = APIRouter(tags=["support"])


@router.post("/support/registrations/search")
async def search(body: SupportSearch, uow: UnitOfWorkDep, principal: Support) -> dict[str, Any]:
    # POST, not a query string: ID numbers stay out of URLs, access logs and traces.
    return {"items": await service.find_registrations(uow, id_type=body.id_type, id_number=body.id_number)}


@router.post("/support/registrations/{registration_id}/rebind")
async def rebind(registration_id: uuid.UUID, body: RebindRequest, uow: UnitOfWorkDep, clock: ClockDep, principal: Support) -> dict[str, Any]:
    done = await service.rebind(
        uow, clock, actor=principal.passport_id, registration_id=registration_id, new_passport_id=body.new_passport_id, reason=body.reason
    )
    return {
        "message": "重新绑定成功",
        "registration_id": str(done.registration_id),
        "old_passport_id": done.old_passport_id,
        "new_passport_id": done.new_passport_id,
    }
