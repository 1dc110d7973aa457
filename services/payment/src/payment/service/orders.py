"""Orders and checkout (Y1, Y2), and what an order's money reads as (Y4)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, replace

from cet_shared.auth import Principal
from cet_shared.clock import Clock
from cet_shared.problems import Problem
from payment.domain.model import Attempt, Order, OrderLine, Subject
from payment.domain.money import fen_to_yuan
from payment.domain.money_states import RefundView, combined, line_state, order_state
from payment.domain.orders import (
    ALIPAY,
    PAYEASE,
    PAYEASE_BANKS,
    NotPayable,
    PayableEnrolment,
    check_payable,
    confirmation_text,
    new_out_trade_no,
    order_amount,
)
from payment.gateways.base import Redirect
from payment.service.ports import Gateways, InOpenOrder, PaymentUnitOfWork
from payment.settings import PaymentSettings

log = logging.getLogger(__name__)
ORDER_SUBJECT = "全国大学英语四、六级考试报名费"


def order_not_found() -> Problem:
    return Problem(404, "order_not_found", "订单不存在")


def in_open_order() -> Problem:
    return Problem(409, "enrolment_in_open_order", "所选科目已在另一笔待支付订单中，请完成该订单的支付")


def gateway_unavailable() -> Problem:
    return Problem(503, "gateway_unavailable", "支付平台暂时无法访问，请稍后再试")


def not_yet_known() -> Problem:
    return Problem(409, "enrolment_not_yet_known", "所选科目信息正在同步，请稍后再试", retry_after=1, headers={"Retry-After": "1"})


@dataclass(frozen=True)
class OrderSummary:
    order_id: uuid.UUID | None
    registration_id: uuid.UUID
    status: str  # open | paid | closed, or the refund's state when all its money goes back
    amount_fen: int
    lines: list[OrderLine]
    created: bool = False
    refund_status: str | None = None  # any refund of the order, partial or surplus included
    refunds: tuple[RefundView, ...] = ()


async def _payable(uow: PaymentUnitOfWork, passport_id: str, enrolment_ids: list[uuid.UUID], clock: Clock, *, lock: bool) -> tuple[list[Subject], int]:
    """The requested subjects if the candidate may pay them (Y1), and their amount."""
    subjects = await uow.orders.subjects(enrolment_ids, lock=lock)
    candidates = [PayableEnrolment(s.enrolment_id, s.registration_id, s.passport_id, s.status, s.fee_fen, s.expires_at) for s in subjects]
    try:
        check_payable(candidates, requested=enrolment_ids, passport_id=passport_id, now=clock.now())
    except NotPayable as exc:
        raise Problem(404 if exc.code == "enrolment_not_found" else 409, exc.code, exc.title) from None
    return subjects, order_amount(candidates)


def _lines(subjects: list[Subject]) -> list[OrderLine]:
    return sorted((OrderLine(s.enrolment_id, s.subject_code, s.subject_name, s.fee_fen) for s in subjects), key=lambda line: line.subject_code)


async def await_projection(uow: PaymentUnitOfWork, settings: PaymentSettings, passport_id: str, enrolment_ids: list[uuid.UUID]) -> None:
    """Issue 14.3: wait (bounded) for subjects enrolment has just announced. Only for a candidate
    this projection knows, so a stranger's or a made-up request is answered at once; the bound is
    measured on the event loop's clock (a test's manual clock does not move by itself)."""
    wanted = set(enrolment_ids)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.projection_wait.total_seconds()
    waited = False
    while True:
        async with uow:
            known = await uow.orders.known_count(wanted)
            if known == len(wanted):
                return
            if not waited and not await uow.orders.has_bound_registration(passport_id):
                return  # nothing of this account is expected here: the checks answer 404
        if loop.time() >= deadline:
            log.warning("%d subject(s) not projected within %ss", len(wanted) - known, settings.projection_wait.total_seconds())
            raise not_yet_known()
        if not waited:
            log.info("waiting for %d subject(s) enrolment just announced", len(wanted) - known)
        waited = True
        await asyncio.sleep(settings.projection_poll.total_seconds())


async def preview_order(uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, principal: Principal, enrolment_ids: list[uuid.UUID]) -> OrderSummary:
    """Y1 去支付: what the candidate is asked to confirm. Nothing is stored."""
    await await_projection(uow, settings, principal.passport_id, enrolment_ids)
    async with uow:
        subjects, amount = await _payable(uow, principal.passport_id, enrolment_ids, clock, lock=False)
    return OrderSummary(None, subjects[0].registration_id, "preview", amount, _lines(subjects))


async def create_order(uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, principal: Principal, enrolment_ids: list[uuid.UUID]) -> OrderSummary:
    """Y1 确定: the order. Asking again for the same subjects returns the same open order."""
    await await_projection(uow, settings, principal.passport_id, enrolment_ids)  # before any lock is taken
    requested = set(enrolment_ids)
    async with uow:
        subjects, amount = await _payable(uow, principal.passport_id, list(requested), clock, lock=True)
        open_orders = await uow.orders.open_orders_with(requested)
        if open_orders:
            if len(open_orders) == 1:
                existing = open_orders.pop()
                if await uow.orders.items(existing) == requested:
                    return await _summary(uow, existing)
            raise in_open_order()
        order = Order(uuid.uuid4(), subjects[0].registration_id, principal.passport_id, amount, "open", clock.now())
        try:
            await uow.orders.add(order, subjects)
        except InOpenOrder:
            raise in_open_order() from None
        await uow.commit()
    return OrderSummary(order.order_id, order.registration_id, "open", order.amount_fen, _lines(subjects), created=True)


async def _summary(uow: PaymentUnitOfWork, order_id: uuid.UUID) -> OrderSummary:
    order = await uow.orders.get(order_id)
    assert order is not None
    views = (await uow.refunds.views([order_id])).get(order_id, [])
    lines = [replace(line, status=line_state(order.status, line.enrolment_id, views)) for line in await uow.orders.lines(order_id)]
    return OrderSummary(
        order.order_id,
        order.registration_id,
        order_state(order.status, order.amount_fen, views),
        order.amount_fen,
        lines,
        refund_status=combined(v.state for v in views),
        refunds=tuple(views),
    )


async def _owned_order(uow: PaymentUnitOfWork, principal: Principal, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    order = await uow.orders.get(order_id, lock=lock)
    if order is None or (not principal.has("support") and (order.owner or order.passport_id) != principal.passport_id):
        raise order_not_found()
    return order


async def get_order(uow: PaymentUnitOfWork, principal: Principal, order_id: uuid.UUID) -> OrderSummary:
    async with uow:
        await _owned_order(uow, principal, order_id)
        return await _summary(uow, order_id)


async def registration_orders(uow: PaymentUnitOfWork, principal: Principal, registration_id: uuid.UUID) -> list[OrderSummary]:
    async with uow:
        await owned_registration(uow, principal, registration_id)
        return [await _summary(uow, order.order_id) for order in await uow.orders.of_registration(registration_id)]


async def owned_registration(uow: PaymentUnitOfWork, principal: Principal, registration_id: uuid.UUID) -> None:
    """The candidate's own registration (its current owner, or who ordered for it), or any for support."""
    owner = await uow.orders.registration_owner(registration_id)
    owners = {owner} if owner else await uow.orders.placed_by(registration_id)
    if not owners or (not principal.has("support") and principal.passport_id not in owners):  # unknown: 404 for support too
        raise Problem(404, "registration_not_found", "报名信息不存在")


@dataclass(frozen=True)
class Checkout:
    order_id: uuid.UUID
    gateway: str
    amount_fen: int
    confirmation: str
    redirect: Redirect


async def checkout(
    uow: PaymentUnitOfWork,
    clock: Clock,
    settings: PaymentSettings,
    gateways: Gateways,
    principal: Principal,
    order_id: uuid.UUID,
    gateway: str,
    bank: str | None,
) -> Checkout:
    """Y2: the chosen platform, its confirmation text, and the form that takes the browser there."""
    if gateway == PAYEASE and bank not in PAYEASE_BANKS:
        raise Problem(422, "bank_required", "请选择支付银行")
    if gateway == ALIPAY:
        bank = None
    now = clock.now()
    async with uow:
        order = await _owned_order(uow, principal, order_id, lock=True)
        if order.status == "paid":
            raise Problem(409, "order_paid", "该订单已支付成功")
        expires_at = await uow.orders.earliest_expiry(order_id)
        if order.status != "open" or expires_at is None or expires_at <= now:
            raise Problem(409, "order_closed", "订单已失效，科目已取消或超过24小时未支付被删除，请重新报考")
        attempt = await uow.orders.attempt_of(order_id, gateway)
        if attempt is None:
            merchant = settings.payease_merchant_id if gateway == PAYEASE else ""
            attempt = Attempt(uuid.uuid4(), order_id, gateway, new_out_trade_no(gateway, now=now, merchant_id=merchant), bank, now)
            await uow.orders.add_attempt(attempt)
        elif attempt.bank != bank:  # the candidate came back and chose another bank
            await uow.orders.set_bank(attempt.attempt_id, bank)
        redirect = gateways[gateway].checkout(
            out_trade_no=attempt.out_trade_no, amount_yuan=fen_to_yuan(order.amount_fen), subject=ORDER_SUBJECT, bank=bank, expires_at=expires_at, now=now
        )
        await uow.commit()
    return Checkout(order_id, gateway, order.amount_fen, confirmation_text(gateway, order.amount_fen, bank), redirect)
