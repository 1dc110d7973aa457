from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from payment.api.deps import Candidate, CandidateOrSupport, ClockDep, GatewaysDep, SettingsDep, UnitOfWorkDep
from payment.api.schemas import CheckoutOut, CheckoutRequest, GatewayOption, OrderOut, OrderRequest, RefreshedOrder
from payment.domain.money_states import LABELS
from payment.domain.orders import GATEWAY_LABELS, PAYEASE, PAYEASE_BANKS
from payment.service import orders as service
from payment.service.refresh import refresh as refresh_registration

router = APIRouter(tags=["orders"])


@router.get("/gateways", response_model=list[GatewayOption])
async def gateways(principal: Candidate) -> list[GatewayOption]:
    """Y2: the payment platforms, and PayEase's banks."""
    return [GatewayOption(gateway=g, label=label, banks=PAYEASE_BANKS if g == PAYEASE else {}) for g, label in GATEWAY_LABELS.items()]


@router.post("/orders/preview", response_model=OrderOut)
async def preview(body: OrderRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> OrderOut:
    """Y1 去支付: the subjects and amount to confirm; nothing is stored."""
    return OrderOut.of(await service.preview_order(uow, clock, settings, principal, body.enrolment_ids))


@router.post("/orders", response_model=OrderOut)
async def create(body: OrderRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate, response: Response) -> OrderOut:
    """Y1 确定: the order (the same open order again when asked twice for the same subjects)."""
    summary = await service.create_order(uow, clock, settings, principal, body.enrolment_ids)
    response.status_code = status.HTTP_201_CREATED if summary.created else status.HTTP_200_OK
    return OrderOut.of(summary)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get(order_id: uuid.UUID, uow: UnitOfWorkDep, principal: CandidateOrSupport) -> OrderOut:
    return OrderOut.of(await service.get_order(uow, principal, order_id))


@router.post("/orders/{order_id}/checkout", response_model=CheckoutOut)
async def checkout(
    order_id: uuid.UUID, body: CheckoutRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, gateways: GatewaysDep, principal: Candidate
) -> CheckoutOut:
    """Y2: the confirmation text and the form that sends the browser to the chosen gateway."""
    return CheckoutOut.of(await service.checkout(uow, clock, settings, gateways, principal, order_id, body.gateway, body.bank))


@router.get("/registrations/{registration_id}/orders", response_model=list[OrderOut])
async def registration_orders(registration_id: uuid.UUID, uow: UnitOfWorkDep, principal: CandidateOrSupport) -> list[OrderOut]:
    """Every order of a registration with its money's state: paid, refund pending, refunded, refund failed (Y4)."""
    return [OrderOut.of(summary) for summary in await service.registration_orders(uow, principal, registration_id)]


@router.post("/registrations/{registration_id}/refresh", response_model=list[RefreshedOrder])
async def refresh(
    registration_id: uuid.UUID, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, gateways: GatewaysDep, principal: CandidateOrSupport
) -> list[RefreshedOrder]:
    """Y5 更新 (the candidate, or a support agent): ask the gateways and settle a missed payment."""
    results = await refresh_registration(uow, clock, settings, gateways, principal, registration_id)
    return [
        RefreshedOrder(order_id=r.order_id, status=r.status, settled_now=r.settled, status_label=LABELS.get(r.status, r.status), refund_status=r.refund_status)
        for r in results
    ]
