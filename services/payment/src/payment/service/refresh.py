"""Y5 更新: the active trade query a candidate or a support agent asks for."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from cet_shared.auth import Principal
from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.domain.money_states import combined, order_state
from payment.gateways.base import GatewayError
from payment.service.conflicts import settle_conflict
from payment.service.orders import gateway_unavailable, owned_registration
from payment.service.ports import Gateways, PaymentUnitOfWork
from payment.service.settlement import APPLIED, CONFLICT, apply_payment
from payment.settings import PaymentSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    order_id: uuid.UUID
    status: str
    settled: bool
    refund_status: str | None = None


async def refresh(
    uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, gateways: Gateways, principal: Principal, registration_id: uuid.UUID
) -> list[RefreshResult]:
    """Y5 更新: ask every gateway the candidate went to whether an unpaid order was paid after all,
    and settle what the gateway confirms (a notification that never arrived)."""
    async with uow:  # bounded per registration, so it cannot be used to flood the gateways
        await owned_registration(uow, principal, registration_id)
        limit = RateLimit("refresh", settings.refreshes_per_registration, settings.refresh_window)
        await uow.throttles.consume(limit, str(registration_id), clock=clock)
        pending = await uow.orders.unpaid_attempts(registration_id)
        if principal.has("support"):  # a support agent's 更新 is audited even when nothing turns up
            await uow.audit.record("payment.refresh_requested", ("registration", registration_id), after={"unpaid_attempts": [a.out_trade_no for a in pending]})
        await uow.commit()
    settled: set[uuid.UUID] = set()
    for attempt in pending:
        try:
            state = await gateways[attempt.gateway].query(attempt.out_trade_no)
        except GatewayError:
            log.warning("trade query failed for %s", attempt.out_trade_no)
            raise gateway_unavailable() from None
        if state.status != "paid" or not state.transaction_id:
            continue
        try:
            amount_fen = yuan_to_fen(state.amount_yuan or "")
        except InvalidAmount:
            continue
        async with uow:
            result = await apply_payment(
                uow,
                gateway=attempt.gateway,
                out_trade_no=attempt.out_trade_no,
                transaction_id=state.transaction_id,
                amount_fen=amount_fen,
                paid_at=state.paid_at or clock.now(),
                source="query",
                now=clock.now(),
                confirmed=True,  # the gateway's own query: a conflicting transaction id is recorded, and settled
            )
            await uow.commit()
        if result.outcome == CONFLICT:  # asked once more; what still disagrees goes to support
            assert result.conflict_id is not None
            if (await settle_conflict(uow, clock, gateways, result.conflict_id)).outcome == APPLIED:
                settled.add(attempt.order_id)
        elif result.outcome == APPLIED:
            settled.add(attempt.order_id)
    async with uow:
        orders = await uow.orders.of_registration(registration_id)
        views = await uow.refunds.views([o.order_id for o in orders])
    return [
        RefreshResult(
            o.order_id,
            order_state(o.status, o.amount_fen, views.get(o.order_id, [])),
            o.order_id in settled,
            combined(v.state for v in views.get(o.order_id, [])),
        )
        for o in orders
    ]
