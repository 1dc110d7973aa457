"""Y5 更新: the active trade query a candidate or a support agent asks for."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from cet_shared import audit
from cet_shared.auth import Principal
from cet_shared.ratelimit import RateLimit
from payment.bootstrap import Payment
from payment.db.tables import attempts, orders
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.domain.money_states import combined, order_state
from payment.gateways.base import GatewayError
from payment.service.orders import gateway_unavailable, owned_registration, refund_views
from payment.service.conflicts import settle_conflict
from payment.service.settlement import APPLIED, CONFLICT, apply_payment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    order_id: uuid.UUID
    status: str
    settled: bool
    refund_status: str | None = None


async def refresh(ctx: Payment, principal: Principal, registration_id: uuid.UUID) -> list[RefreshResult]:
    """Y5 更新: ask every gateway the candidate went to whether an unpaid order was paid after all,
    and settle what the gateway confirms (a notification that never arrived)."""
    async with ctx.sessions() as session, session.begin():
        await owned_registration(session, principal, registration_id)
        limit = RateLimit("refresh", ctx.settings.refreshes_per_registration, ctx.settings.refresh_window)
        await limit.consume(session, str(registration_id), clock=ctx.clock)
        pending = (
            await session.execute(
                select(attempts.c.gateway, attempts.c.out_trade_no, attempts.c.order_id)
                .join(orders, orders.c.order_id == attempts.c.order_id)
                .where(orders.c.registration_id == registration_id, orders.c.status != "paid")
            )
        ).all()
        if principal.has("support"):  # a support agent's 更新 is audited even when nothing turns up
            await audit.record(session, "payment.refresh_requested", ("registration", registration_id), after={"unpaid_attempts": [a.out_trade_no for a in pending]})
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
        if result.outcome == CONFLICT:  # asked once more; what still disagrees goes to support
            if (await settle_conflict(ctx, result.conflict_id)).outcome == APPLIED:
                settled.add(attempt.order_id)
        elif result.outcome == APPLIED:
            settled.add(attempt.order_id)
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(orders.c.order_id, orders.c.status, orders.c.amount_fen).where(orders.c.registration_id == registration_id).order_by(orders.c.created_at)
            )
        ).all()
        views = await refund_views(session, [r.order_id for r in rows])
    return [
        RefreshResult(r.order_id, order_state(r.status, r.amount_fen, views.get(r.order_id, [])), r.order_id in settled,
                      combined(v.state for v in views.get(r.order_id, [])))
        for r in rows
    ]
