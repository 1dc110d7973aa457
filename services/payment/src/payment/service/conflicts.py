"""Settling a transaction conflict (see settlement.py): the gateway's own trade query decides.

- the query says the attempt is paid (amount of the order) → the payment is applied, the conflict
  settled: the candidate's subjects become paid;
- the query fails or says otherwise → the conflict goes to support, and stays listed (GET /conflicts,
  and every reconciliation run tries again) until someone or something settles it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cet_shared.clock import Clock
from payment.domain.model import Conflict
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.gateways.base import GatewayError
from payment.service.ports import Gateways, PaymentUnitOfWork
from payment.service.settlement import APPLIED, CONFIRMED_BY_QUERY, DUPLICATE, SURPLUS_REFUNDED, apply_payment

log = logging.getLogger(__name__)
SETTLED_OUTCOMES = {APPLIED, DUPLICATE, SURPLUS_REFUNDED}


@dataclass(frozen=True)
class ConflictOutcome:
    conflict_id: int
    out_trade_no: str
    transaction_id: str
    settled: bool
    outcome: str  # what apply_payment said once confirmed, or why it went to support


async def _to_support(uow: PaymentUnitOfWork, conflict: Conflict, why: str) -> ConflictOutcome:
    async with uow:
        await uow.payments.conflict_to_support(conflict.id, why)
        await uow.commit()
    log.error("payment conflict %s handed to support: %s", conflict.id, why)
    return ConflictOutcome(conflict.id, conflict.out_trade_no, conflict.transaction_id, False, "conflict_support")


async def settle_conflict(uow: PaymentUnitOfWork, clock: Clock, gateways: Gateways, conflict_id: int) -> ConflictOutcome:
    async with uow:
        conflict = await uow.payments.conflict(conflict_id)
    assert conflict is not None, f"conflict {conflict_id} was recorded before it is settled"
    if conflict.status == "settled":
        return ConflictOutcome(conflict_id, conflict.out_trade_no, conflict.transaction_id, True, DUPLICATE)
    try:
        state = await gateways[conflict.gateway].query(conflict.out_trade_no)
    except GatewayError as exc:
        return await _to_support(uow, conflict, f"trade query failed: {exc}")
    if state.status != "paid" or not state.transaction_id:
        return await _to_support(uow, conflict, f"trade query says {state.status}")
    try:
        amount_fen = yuan_to_fen(state.amount_yuan or "")
    except InvalidAmount:
        return await _to_support(uow, conflict, f"trade query amount unreadable: {state.amount_yuan!r}")
    async with uow:
        result = await apply_payment(
            uow,
            gateway=conflict.gateway,
            out_trade_no=conflict.out_trade_no,
            transaction_id=state.transaction_id,
            amount_fen=amount_fen,
            paid_at=state.paid_at or clock.now(),
            source="query",
            now=clock.now(),
            confirmed=True,
        )
        if result.outcome in SETTLED_OUTCOMES:
            # Also when the query gives another number (the reported one was wrong) or confirms
            # the payment we already hold (the other amount was the wrong report).
            resolution = CONFIRMED_BY_QUERY
            if state.transaction_id != conflict.transaction_id:
                resolution += f": transaction {state.transaction_id[:64]}"
            await uow.payments.settle_conflict(conflict_id, resolution, clock.now())
            await uow.audit.record(
                "payment.conflict_settled",
                ("payment_conflict", conflict_id),
                before={"status": conflict.status},
                after={"status": "settled", "resolution": resolution, "outcome": result.outcome},
            )
        await uow.commit()
    if result.outcome not in SETTLED_OUTCOMES:
        return await _to_support(uow, conflict, f"confirmed payment not applied: {result.outcome}")
    return ConflictOutcome(conflict_id, conflict.out_trade_no, conflict.transaction_id, True, result.outcome)


async def list_conflicts(uow: PaymentUnitOfWork, status: str | None = None, limit: int = 200) -> list[Conflict]:
    async with uow:
        return await uow.payments.conflicts(status, limit)


async def retry_by_support(uow: PaymentUnitOfWork, clock: Clock, gateways: Gateways, conflict_id: int, agent: str) -> Conflict | None:
    """A support agent asks the gateway again; who asked, and what came of it, stays on the row."""
    async with uow:
        if await uow.payments.conflict(conflict_id) is None:
            return None
    outcome = await settle_conflict(uow, clock, gateways, conflict_id)
    async with uow:
        await uow.payments.conflict_handled_by(conflict_id, agent)
        await uow.audit.record("payment.conflict_retried", ("payment_conflict", conflict_id), after={"outcome": outcome.outcome, "settled": outcome.settled})
        await uow.commit()
    log.warning("AUDIT support %s retried payment conflict %s: %s", agent, conflict_id, outcome.outcome)
    async with uow:
        return await uow.payments.conflict(conflict_id)


async def settle_open_conflicts(uow: PaymentUnitOfWork, clock: Clock, gateways: Gateways, gateway: str | None = None) -> list[ConflictOutcome]:
    """Every conflict not yet settled gets another try (the reconciliation run calls this)."""
    async with uow:
        ids = await uow.payments.unsettled_conflicts(gateway)
    return [await settle_conflict(uow, clock, gateways, conflict_id) for conflict_id in ids]
