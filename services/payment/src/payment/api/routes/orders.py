from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from cet_shared.contract import link, problems
from payment.api.deps import Candidate, CandidateOrSupport, ClockDep, GatewaysDep, SettingsDep, UnitOfWorkDep
from payment.api.schemas import CheckoutOut, CheckoutRequest, GatewayOption, OrderOut, OrderRequest, RefreshedOrder
from payment.domain.money_states import LABELS
from payment.domain.orders import GATEWAY_LABELS, PAYEASE, PAYEASE_BANKS
from payment.service import orders as service
from payment.service.refresh import refresh as refresh_registration

router = APIRouter(tags=["orders"])


@router.get("/gateways", response_model=list[GatewayOption], summary="支付平台与银行")
async def gateways(principal: Candidate) -> list[GatewayOption]:
    """Y2：可选的支付平台，以及首信易支付可选的银行。"""
    return [GatewayOption(gateway=g, label=label, banks=PAYEASE_BANKS if g == PAYEASE else {}) for g, label in GATEWAY_LABELS.items()]


@router.post("/orders/preview", response_model=OrderOut, summary="去支付：确认科目与金额", responses=problems(404, 409))
async def preview(body: OrderRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> OrderOut:
    """Y1 去支付：列出要支付的科目和金额，不保存任何内容。"""
    return OrderOut.of(await service.preview_order(uow, clock, settings, principal, body.enrolment_ids))


_ORDER_LINKS = {
    "checkout": link("checkout", "选择支付平台并支付该订单", parameters={"order_id": "$response.body#/order_id"}),
    "get": link("get", "查看该订单", parameters={"order_id": "$response.body#/order_id"}),
}


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    summary="确定：生成订单",
    responses={
        200: {"description": "同一组科目的待支付订单已存在：返回该订单", "model": OrderOut, "links": _ORDER_LINKS},
        201: {"description": "订单已生成", "links": _ORDER_LINKS},
        **problems(404, 409),
    },
)
async def create(body: OrderRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate, response: Response) -> OrderOut:
    """Y1 确定：生成订单（同一组科目再次提交时返回同一笔待支付订单）。"""
    summary = await service.create_order(uow, clock, settings, principal, body.enrolment_ids)
    response.status_code = status.HTTP_201_CREATED if summary.created else status.HTTP_200_OK
    return OrderOut.of(summary)


@router.get("/orders/{order_id:uuid}", response_model=OrderOut, summary="订单详情", responses=problems(404))
async def get(order_id: uuid.UUID, uow: UnitOfWorkDep, principal: CandidateOrSupport) -> OrderOut:
    """考生本人或客服查看订单及其款项状态。"""
    return OrderOut.of(await service.get_order(uow, principal, order_id))


@router.post("/orders/{order_id:uuid}/checkout", response_model=CheckoutOut, summary="选择支付平台", responses=problems(404, 409))
async def checkout(
    order_id: uuid.UUID, body: CheckoutRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, gateways: GatewaysDep, principal: Candidate
) -> CheckoutOut:
    """Y2：确认文字，以及把浏览器带到所选支付平台的表单。"""
    return CheckoutOut.of(await service.checkout(uow, clock, settings, gateways, principal, order_id, body.gateway, body.bank))


@router.get("/registrations/{registration_id}/orders", response_model=list[OrderOut], summary="报名的全部订单", responses=problems(404))
async def registration_orders(registration_id: uuid.UUID, uow: UnitOfWorkDep, principal: CandidateOrSupport) -> list[OrderOut]:
    """Y4：一个报名的全部订单及款项状态：已支付、退款中、已退款、退款失败。"""
    return [OrderOut.of(summary) for summary in await service.registration_orders(uow, principal, registration_id)]


@router.post(
    "/registrations/{registration_id}/refresh",
    response_model=list[RefreshedOrder],
    summary="更新支付状态",
    responses=problems(404, 429, s503="系统或支付平台暂时无法访问，请稍后重试"),
)
async def refresh(
    registration_id: uuid.UUID, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, gateways: GatewaysDep, principal: CandidateOrSupport
) -> list[RefreshedOrder]:
    """Y5 更新（考生本人或客服）：向支付平台查询，补记漏掉的支付结果。"""
    results = await refresh_registration(uow, clock, settings, gateways, principal, registration_id)
    return [
        RefreshedOrder(order_id=r.order_id, status=r.status, settled_now=r.settled, status_label=LABELS.get(r.status, r.status), refund_status=r.refund_status)
        for r in results
    ]
