"""Orders and checkout (Y1, Y2) and the 更新 button's active query (Y5)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from cet_shared.auth import Principal
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from payment.bootstrap import Payment
from payment.db.tables import attempts, enrolments, order_items, orders, registrations
from payment.domain.money import InvalidAmount, fen_to_yuan, yuan_to_fen
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
from payment.gateways.base import GatewayError, Redirect
from payment.service.settlement import APPLIED, apply_payment

log = logging.getLogger(__name__)
ORDER_SUBJECT = "全国大学英语四、六级考试报名费"


def order_not_found() -> Problem:
    return Problem(404, "order_not_found", "订单不存在")


def in_open_order() -> Problem:
    return Problem(409, "enrolment_in_open_order", "所选科目已在另一笔待支付订单中，请完成该订单的支付")


def gateway_unavailable() -> Problem:
    return Problem(503, "gateway_unavailable", "支付平台暂时无法访问，请稍后再试")


@dataclass(frozen=True)
class OrderLine:
    enrolment_id: uuid.UUID
    subject_code: str
    subject_name: str
    fee_fen: int


@dataclass(frozen=True)
class OrderSummary:
    order_id: uuid.UUID | None
    registration_id: uuid.UUID
    status: str
    amount_fen: int
    lines: list[OrderLine]
    created: bool = False


async def _payable(session, passport_id: str, enrolment_ids: list[uuid.UUID], now, *, lock: bool):  # noqa: ANN001, ANN202
    # Rows are locked in id order so two concurrent orders over the same subjects serialise here.
    query = (
        select(enrolments, registrations.c.passport_id.label("owner"), registrations.c.status.label("registration_status"))
        .outerjoin(registrations, registrations.c.registration_id == enrolments.c.registration_id)
        .where(enrolments.c.enrolment_id.in_(enrolment_ids))
        .order_by(enrolments.c.enrolment_id)
    )
    if lock:
        query = query.with_for_update(of=enrolments)
    rows = (await session.execute(query)).all()
    candidates = [
        PayableEnrolment(
            enrolment_id=r.enrolment_id,
            registration_id=r.registration_id,
            # The registration's current owner wins (E12 rebinding); the enrolment's own as fallback.
            owner_passport_id=r.owner or r.passport_id,
            status=r.status if r.registration_status != "released" else "cancelled",
            fee_fen=r.fee_fen,
            expires_at=r.expires_at,
        )
        for r in rows
    ]
    try:
        check_payable(candidates, requested=enrolment_ids, passport_id=passport_id, now=now)
    except NotPayable as exc:
        status = 404 if exc.code == "enrolment_not_found" else 409
        raise Problem(status, exc.code, exc.title) from None
    return rows, candidates


def _lines(rows) -> list[OrderLine]:  # noqa: ANN001
    lines = [OrderLine(r.enrolment_id, r.subject_code, r.subject_name, r.fee_fen) for r in rows]
    return sorted(lines, key=lambda line: line.subject_code)


async def preview_order(ctx: Payment, principal: Principal, enrolment_ids: list[uuid.UUID]) -> OrderSummary:
    """Y1 去支付: what the candidate is asked to confirm. Nothing is stored."""
    async with ctx.sessions() as session:
        rows, candidates = await _payable(session, principal.passport_id, enrolment_ids, ctx.clock.now(), lock=False)
    return OrderSummary(None, candidates[0].registration_id, "preview", order_amount(candidates), _lines(rows))


async def create_order(ctx: Payment, principal: Principal, enrolment_ids: list[uuid.UUID]) -> OrderSummary:
    """Y1 确定: the order. Asking again for the same subjects returns the same open order."""
    now = ctx.clock.now()
    requested = set(enrolment_ids)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        rows, candidates = await _payable(session, principal.passport_id, list(requested), now, lock=True)
        open_orders = set(
            (
                await session.execute(
                    select(order_items.c.order_id).where(order_items.c.enrolment_id.in_(requested), order_items.c.open)
                )
            ).scalars()
        )
        if open_orders:
            if len(open_orders) == 1:
                existing = open_orders.pop()
                items = set((await session.execute(select(order_items.c.enrolment_id).where(order_items.c.order_id == existing))).scalars())
                if items == requested:
                    return await _summary(session, existing)
            raise in_open_order()
        order_id = uuid.uuid4()
        await session.execute(
            insert(orders).values(
                order_id=order_id,
                registration_id=candidates[0].registration_id,
                passport_id=principal.passport_id,
                amount_fen=order_amount(candidates),
                status="open",
                created_at=now,
            )
        )
        await session.execute(
            insert(order_items), [{"order_id": order_id, "enrolment_id": c.enrolment_id, "fee_fen": c.fee_fen} for c in candidates]
        )
        try:
            await uow.commit()
        except IntegrityError:  # the partial unique index: another order took a subject first
            raise in_open_order() from None
    return OrderSummary(order_id, candidates[0].registration_id, "open", order_amount(candidates), _lines(rows), created=True)


async def _summary(session, order_id: uuid.UUID) -> OrderSummary:  # noqa: ANN001
    order = (await session.execute(select(orders).where(orders.c.order_id == order_id))).one()
    rows = (
        await session.execute(
            select(order_items.c.enrolment_id, order_items.c.fee_fen, enrolments.c.subject_code, enrolments.c.subject_name)
            .join(enrolments, enrolments.c.enrolment_id == order_items.c.enrolment_id)
            .where(order_items.c.order_id == order_id)
        )
    ).all()
    return OrderSummary(order.order_id, order.registration_id, order.status, order.amount_fen, _lines(rows))


async def _owned_order(session, principal: Principal, order_id: uuid.UUID, *, lock: bool = False):  # noqa: ANN001, ANN202
    query = select(orders, registrations.c.passport_id.label("owner")).outerjoin(
        registrations, registrations.c.registration_id == orders.c.registration_id
    ).where(orders.c.order_id == order_id)
    if lock:
        query = query.with_for_update(of=orders)
    order = (await session.execute(query)).first()
    if order is None or (not principal.has("support") and (order.owner or order.passport_id) != principal.passport_id):
        raise order_not_found()
    return order


async def get_order(ctx: Payment, principal: Principal, order_id: uuid.UUID) -> OrderSummary:
    async with ctx.sessions() as session:
        await _owned_order(session, principal, order_id)
        return await _summary(session, order_id)


@dataclass(frozen=True)
class Checkout:
    order_id: uuid.UUID
    gateway: str
    amount_fen: int
    confirmation: str
    redirect: Redirect


async def checkout(ctx: Payment, principal: Principal, order_id: uuid.UUID, gateway: str, bank: str | None) -> Checkout:
    """Y2: the chosen platform, its confirmation text, and the form that takes the browser there."""
    if gateway == PAYEASE and bank not in PAYEASE_BANKS:
        raise Problem(422, "bank_required", "请选择支付银行")
    if gateway == ALIPAY:
        bank = None
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        order = await _owned_order(session, principal, order_id, lock=True)
        if order.status == "paid":
            raise Problem(409, "order_paid", "该订单已支付成功")
        expires_at = await session.scalar(
            select(func.min(enrolments.c.expires_at))
            .join(order_items, order_items.c.enrolment_id == enrolments.c.enrolment_id)
            .where(order_items.c.order_id == order_id)
        )
        if order.status != "open" or expires_at is None or expires_at <= now:
            raise Problem(409, "order_closed", "订单已失效，科目已取消或超过24小时未支付被删除，请重新报考")
        attempt = (await session.execute(select(attempts).where(attempts.c.order_id == order_id, attempts.c.gateway == gateway))).first()
        if attempt is None:
            merchant = ctx.settings.payease_merchant_id if gateway == PAYEASE else ""
            out_trade_no = new_out_trade_no(gateway, now=now, merchant_id=merchant)
            await session.execute(
                insert(attempts).values(
                    attempt_id=uuid.uuid4(), order_id=order_id, gateway=gateway, out_trade_no=out_trade_no, bank=bank, created_at=now
                )
            )
        else:
            out_trade_no = attempt.out_trade_no
            if attempt.bank != bank:  # the candidate came back and chose another bank
                await session.execute(update(attempts).where(attempts.c.attempt_id == attempt.attempt_id).values(bank=bank))
        redirect = ctx.gateway(gateway).checkout(
            out_trade_no=out_trade_no, amount_yuan=fen_to_yuan(order.amount_fen), subject=ORDER_SUBJECT, bank=bank, expires_at=expires_at, now=now
        )
        await uow.commit()
    return Checkout(order_id, gateway, order.amount_fen, confirmation_text(gateway, order.amount_fen, bank), redirect)


@dataclass(frozen=True)
class RefreshResult:
    order_id: uuid.UUID
    status: str
    settled: bool


async def refresh(ctx: Payment, principal: Principal, registration_id: uuid.UUID) -> list[RefreshResult]:
    """Y5 更新: ask every gateway the candidate went to whether an unpaid order was paid after all,
    and settle what the gateway confirms (a notification that never arrived)."""
    async with ctx.sessions() as session, session.begin():
        owner = await session.scalar(select(registrations.c.passport_id).where(registrations.c.registration_id == registration_id))
        order_rows = (await session.execute(select(orders).where(orders.c.registration_id == registration_id).order_by(orders.c.created_at))).all()
        owners = {owner} if owner else {o.passport_id for o in order_rows}
        if not principal.has("support") and principal.passport_id not in owners:
            raise Problem(404, "registration_not_found", "报名信息不存在")
        limit = RateLimit("refresh", ctx.settings.refreshes_per_registration, ctx.settings.refresh_window)
        await limit.consume(session, str(registration_id), clock=ctx.clock)
        pending = (
            await session.execute(
                select(attempts.c.gateway, attempts.c.out_trade_no, attempts.c.order_id)
                .join(orders, orders.c.order_id == attempts.c.order_id)
                .where(orders.c.registration_id == registration_id, orders.c.status != "paid")
            )
        ).all()
    settled: set[uuid.UUID] = set()
    for attempt in pending:
        try:
            state = await ctx.gateway(attempt.gateway).query(attempt.out_trade_no)
        except GatewayError:
            log.warning("trade query failed for %s", attempt.out_trade_no)
            raise gateway_unavailable() from None
        if state.status != "paid" or not state.transaction_id:
            continue
        try:
            amount_fen = yuan_to_fen(state.amount_yuan or "")
        except InvalidAmount:
            continue
        async with ctx.unit_of_work() as uow:
            result = await apply_payment(
                uow, gateway=attempt.gateway, out_trade_no=attempt.out_trade_no, transaction_id=state.transaction_id,
                amount_fen=amount_fen, paid_at=state.paid_at or ctx.clock.now(), source="query", now=ctx.clock.now(),
                confirmed=True,  # the gateway's own query: a conflicting transaction id is recorded, and settled
            )
            await uow.commit()
        if result.outcome == APPLIED:
            settled.add(attempt.order_id)
    async with ctx.sessions() as session:
        rows = (await session.execute(select(orders.c.order_id, orders.c.status).where(orders.c.registration_id == registration_id).order_by(orders.c.created_at))).all()
    return [RefreshResult(r.order_id, r.status, r.order_id in settled) for r in rows]
