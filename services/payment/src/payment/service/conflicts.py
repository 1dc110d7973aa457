"""Settling a transaction conflict (see settlement.py): the gateway's own trade query decides.

- the query says the attempt is paid (amount of the order) → the payment is applied, the conflict
  settled: the candidate's subjects become paid;
- the query fails or says otherwise → the conflict goes to support, and stays listed (GET /conflicts,
  and every reconciliation run tries again) until someone or something settles it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from cet_shared import audit
from payment.bootstrap import Payment
from payment.db.tables import payment_conflicts
from payment.domain.money import InvalidAmount, yuan_to_fen
from payment.gateways.base import GatewayError
from payment.service.settlement import APPLIED, DUPLICATE, SURPLUS_REFUNDED, apply_payment

log = logging.getLogger(__name__)
SETTLED_OUTCOMES = {APPLIED, DUPLICATE, SURPLUS_REFUNDED}


@dataclass(frozen=True)
class ConflictOutcome:
    conflict_id: int
    out_trade_no: str
    transaction_id: str
    settled: bool
    outcome: str  # what apply_payment said once confirmed, or why it went to support


async def _to_support(ctx: Payment, conflict, why: str) -> ConflictOutcome:  # noqa: ANN001 - a payment_conflicts row
    conflict_id = conflict.id
    async with ctx.unit_of_work() as uow:
        await uow.session.execute(
            update(payment_conflicts)
            .where(payment_conflicts.c.id == conflict_id, payment_conflicts.c.status != "settled")
            .values(status="support", resolution=why[:300])
        )
        await uow.commit()
    log.error("payment conflict %s handed to support: %s", conflict_id, why)
    return ConflictOutcome(conflict_id, conflict.out_trade_no, conflict.transaction_id, False, "conflict_support")


async def settle_conflict(ctx: Payment, conflict_id: int) -> ConflictOutcome:
    async with ctx.sessions() as session:
        conflict = (await session.execute(select(payment_conflicts).where(payment_conflicts.c.id == conflict_id))).one()
    if conflict.status == "settled":
        return ConflictOutcome(conflict_id, conflict.out_trade_no, conflict.transaction_id, True, DUPLICATE)
    try:
        state = await ctx.gateway(conflict.gateway).query(conflict.out_trade_no)
    except GatewayError as exc:
        return await _to_support(ctx, conflict, f"trade query failed: {exc}")
    if state.status != "paid" or not state.transaction_id:
        return await _to_support(ctx, conflict, f"trade query says {state.status}")
    try:
        amount_fen = yuan_to_fen(state.amount_yuan or "")
    except InvalidAmount:
        return await _to_support(ctx, conflict, f"trade query amount unreadable: {state.amount_yuan!r}")
    async with ctx.unit_of_work() as uow:
        result = await apply_payment(
            uow, gateway=conflict.gateway, out_trade_no=conflict.out_trade_no, transaction_id=state.transaction_id, amount_fen=amount_fen,
            paid_at=state.paid_at or ctx.clock.now(), source="query", now=ctx.clock.now(), confirmed=True,
        )
        if result.outcome in SETTLED_OUTCOMES:
            # Also when the query gives another number (the reported one was wrong) or confirms
            # the payment we already hold (the other amount was the wrong report).
            resolution = "confirmed by the gateway's trade query"
            if state.transaction_id != conflict.transaction_id:
                resolution += f": transaction {state.transaction_id[:64]}"
            await uow.session.execute(
                update(payment_conflicts)
                .where(payment_conflicts.c.id == conflict_id, payment_conflicts.c.status != "settled")
                .values(status="settled", resolution=resolution, resolved_at=ctx.clock.now())
            )
            await audit.record(uow.session, "payment.conflict_settled", ("payment_conflict", conflict_id), before={"status": conflict.status}, after={"status": "settled", "resolution": resolution, "outcome": result.outcome})
        await uow.commit()
    if result.outcome not in SETTLED_OUTCOMES:
        return await _to_support(ctx, conflict, f"confirmed payment not applied: {result.outcome}")
    return ConflictOutcome(conflict_id, conflict.out_trade_no, conflict.transaction_id, True, result.outcome)


async def list_conflicts(ctx: Payment, status: str | None = None, limit: int = 200) -> list:
    async with ctx.sessions() as session:
        query = select(payment_conflicts).order_by(payment_conflicts.c.id.desc()).limit(limit)
        if status:
            query = query.where(payment_conflicts.c.status == status)
        return list((await session.execute(query)).all())


async def retry_by_support(ctx: Payment, conflict_id: int, agent: str):  # noqa: ANN201 - a payment_conflicts row
    """A support agent asks the gateway again; who asked, and what came of it, stays on the row."""
    async with ctx.sessions() as session:
        if await session.scalar(select(payment_conflicts.c.id).where(payment_conflicts.c.id == conflict_id)) is None:
            return None
    outcome = await settle_conflict(ctx, conflict_id)
    async with ctx.unit_of_work() as uow:
        await uow.session.execute(update(payment_conflicts).where(payment_conflicts.c.id == conflict_id).values(resolved_by=agent[:64]))
        await audit.record(uow.session, "payment.conflict_retried", ("payment_conflict", conflict_id), after={"outcome": outcome.outcome, "settled": outcome.settled})
        await uow.commit()
    log.warning("AUDIT support %s retried payment conflict %s: %s", agent, conflict_id, outcome.outcome)
    return await conflict_by_id(ctx, conflict_id)


async def conflict_by_id(ctx: Payment, conflict_id: int):  # noqa: ANN201
    async with ctx.sessions() as session:
        return (await session.execute(select(payment_conflicts).where(payment_conflicts.c.id == conflict_id))).one()


async def settle_open_conflicts(ctx: Payment, gateway: str | None = None) -> list[ConflictOutcome]:
    """Every conflict not yet settled gets another try (the reconciliation run calls this)."""
    async with ctx.sessions() as session:
        query = select(payment_conflicts.c.id).where(payment_conflicts.c.status != "settled").order_by(payment_conflicts.c.id)
        if gateway:
            query = query.where(payment_conflicts.c.gateway == gateway)
        ids = list((await session.execute(query)).scalars())
    return [await settle_conflict(ctx, conflict_id) for conflict_id in ids]
