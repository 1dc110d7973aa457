"""Transaction conflicts handed to support (Y3, Y5): what is open, and asking the gateway again."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from cet_shared.contract import problems
from cet_shared.problems import Problem
from payment.api.deps import ClockDep, GatewaysDep, Support, UnitOfWorkDep
from payment.service import conflicts as service

router = APIRouter(prefix="/conflicts", tags=["conflicts"])


class ConflictOut(BaseModel):
    id: int
    gateway: str
    transaction_id: str
    out_trade_no: str
    order_id: str
    amount_fen: int
    source: str
    existing_order_id: str
    existing_amount_fen: int
    status: Literal["open", "settled", "support"]
    resolution: str | None
    times_seen: int
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, row) -> ConflictOut:  # noqa: ANN001
        fields = {name: getattr(row, name) for name in cls.model_fields}
        return cls(**fields | {"order_id": str(row.order_id), "existing_order_id": str(row.existing_order_id)})


@router.get("", response_model=list[ConflictOut], summary="支付冲突列表")
async def listed(uow: UnitOfWorkDep, principal: Support, status: Literal["open", "settled", "support"] | None = None) -> list[ConflictOut]:
    """最新的在前（最多 200 条）；`status=support` 即客服的待处理队列。"""
    return [ConflictOut.of(row) for row in await service.list_conflicts(uow, status)]


@router.post("/{conflict_id}/settle", response_model=ConflictOut, summary="再次查询并处理支付冲突", responses=problems(404))
async def settle(conflict_id: int, uow: UnitOfWorkDep, clock: ClockDep, gateways: GatewaysDep, principal: Support) -> ConflictOut:
    """再次向支付平台查询交易，平台确认则订单记为已支付；操作留痕。"""
    if not 0 < conflict_id < 2**63:
        raise Problem(404, "conflict_not_found", "该支付冲突记录不存在")
    row = await service.retry_by_support(uow, clock, gateways, conflict_id, principal.passport_id)
    if row is None:
        raise Problem(404, "conflict_not_found", "该支付冲突记录不存在")
    return ConflictOut.of(row)
