"""Orders and checkout (Y1, Y2), and what an order's money reads as (Y4)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from cet_shared.auth import Principal
from cet_shared.problems import Problem
from payment.bootstrap import Payment
from payment.db.tables import attempts, enrolments, order_items, orders, refunds, registrations
from payment.domain.money_states import RefundView, combined, line_state, order_state
from payment.domain.money import fen_to_yuan
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
    status: str = "unpaid"  # unpaid | paid | refund_pending | refunded | refund_failed


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


def not_yet_known() -> Problem:
    return Problem(409, "enrolment_not_yet_known", "所选科目信息正在同步，请稍后再试", retry_after=1, headers={"Retry-After": "1"})


async def await_projection(ctx: Payment, passport_id: str, enrolment_ids: list[uuid.UUID]) -> None:
    """Issue 14.3: wait (bounded) for subjects enrolment has just announced. Only for a candidate
    this projection knows, so a stranger's or a made-up request is answered at once; the bound is
    measured on the event loop's clock (a test's manual clock does not move by itself)."""
    wanted = set(enrolment_ids)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.settings.projection_wait.total_seconds()
    waited = False
    while True:
        async with ctx.sessions() as session:
            known = await session.scalar(select(func.count()).select_from(enrolments).where(enrolments.c.enrolment_id.in_(wanted)))
            if known == len(wanted):
                return
            if not waited:
                candidate = await session.scalar(
                    select(func.count()).select_from(registrations).where(registrations.c.passport_id == passport_id, registrations.c.status == "bound")
                )
                if not candidate:
                    return  # nothing of this account is expected here: the checks answer 404
        if loop.time() >= deadline:
            log.warning("%d subject(s) not projected within %ss", len(wanted) - known, ctx.settings.projection_wait.total_seconds())
            raise not_yet_known()
        if not waited:
            log.info("waiting for %d subject(s) enrolment just announced", len(wanted) - known)
        waited = True
        await asyncio.sleep(ctx.settings.projection_poll.total_seconds())


def _lines(rows) -> list[OrderLine]:  # noqa: ANN001
    lines = [OrderLine(r.enrolment_id, r.subject_code, r.subject_name, r.fee_fen) for r in rows]
    return sorted(lines, key=lambda line: line.subject_code)


async def preview_order(ctx: Payment, principal: Principal, enrolment_ids: list[uuid.UUID]) -> OrderSummary:
    """Y1 去支付: what the candidate is asked to confirm. Nothing is stored."""
    await await_projection(ctx, principal.passport_id, enrolment_ids)
    async with ctx.sessions() as session:
        rows, candidates = await _payable(session, principal.passport_id, enrolment_ids, ctx.clock.now(), lock=False)
    return OrderSummary(None, candidates[0].registration_id, "preview", order_amount(candidates), _lines(rows))


async def create_order(ctx: Payment, principal: Principal, enrolment_ids: list[uuid.UUID]) -> OrderSummary:
    """Y1 确定: the order. Asking again for the same subjects returns the same open order."""
    await await_projection(ctx, principal.passport_id, enrolment_ids)  # before any lock is taken
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


async def refund_views(session, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[RefundView]]:  # noqa: ANN001
    rows = (
        await session.execute(
            select(refunds.c.order_id, refunds.c.status, refunds.c.amount_fen, refunds.c.reason, refunds.c.enrolment_ids)
            .where(refunds.c.order_id.in_(order_ids))
            .order_by(refunds.c.created_at)
        )
    ).all()
    views: dict[uuid.UUID, list[RefundView]] = {}
    for r in rows:
        views.setdefault(r.order_id, []).append(RefundView(r.status, r.amount_fen, r.reason, tuple(r.enrolment_ids)))
    return views


async def _summary(session, order_id: uuid.UUID) -> OrderSummary:  # noqa: ANN001
    order = (await session.execute(select(orders).where(orders.c.order_id == order_id))).one()
    rows = (
        await session.execute(
            select(order_items.c.enrolment_id, order_items.c.fee_fen, enrolments.c.subject_code, enrolments.c.subject_name)
            .join(enrolments, enrolments.c.enrolment_id == order_items.c.enrolment_id)
            .where(order_items.c.order_id == order_id)
        )
    ).all()
    views = (await refund_views(session, [order_id])).get(order_id, [])
    lines = [
        OrderLine(line.enrolment_id, line.subject_code, line.subject_name, line.fee_fen, line_state(order.status, line.enrolment_id, views))
        for line in _lines(rows)
    ]
    return OrderSummary(
        order.order_id, order.registration_id, order_state(order.status, order.amount_fen, views), order.amount_fen, lines,
        refund_status=combined(v.state for v in views), refunds=tuple(views),
    )


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


async def registration_orders(ctx: Payment, principal: Principal, registration_id: uuid.UUID) -> list[OrderSummary]:
    async with ctx.sessions() as session:
        await owned_registration(session, principal, registration_id)
        order_ids = (await session.execute(select(orders.c.order_id).where(orders.c.registration_id == registration_id).order_by(orders.c.created_at))).scalars()
        return [await _summary(session, order_id) for order_id in order_ids]


async def owned_registration(session, principal: Principal, registration_id: uuid.UUID) -> None:  # noqa: ANN001
    """The candidate's own registration (its current owner, or who ordered for it), or any for support."""
    owner = await session.scalar(select(registrations.c.passport_id).where(registrations.c.registration_id == registration_id))
    owners = {owner} if owner else set((await session.execute(select(orders.c.passport_id).where(orders.c.registration_id == registration_id))).scalars())
    if not owners or (not principal.has("support") and principal.passport_id not in owners):  # unknown: 404 for support too
        raise Problem(404, "registration_not_found", "报名信息不存在")


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
