"""Y4: refunds through the gateway adapter. A refund row is created once per (payment,
enrolments); the processor claims pending rows with FOR UPDATE SKIP LOCKED, so concurrent
workers never both send one, and the gateway request number makes even a resend harmless."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import func, select, update

from cet_shared import audit
from cet_shared.events.contracts import PaidSubject, RefundCompleted, RefundFailed, RefundRequired
from cet_shared.db import UnitOfWork
from payment.bootstrap import Payment
from payment.db.tables import attempts, enrolments, orders, payments, refunds, registrations
from payment.domain.money import fen_to_yuan
from payment.gateways.base import GatewayError
from payment.service.alerts import alert
from payment.service.settlement import enrolment_key, request_refund

log = logging.getLogger(__name__)


class PaymentNotFound(Exception):
    """RefundRequired for an order we hold no applied payment of (retried, then dead-lettered)."""


class RefundExceedsPayment(Exception):
    """Never give back more than was paid: such a request goes to the dead-letter topic for review."""


async def on_refund_required(ctx: Payment, uow: UnitOfWork, event: RefundRequired) -> bool:
    payment = (
        await uow.session.execute(
            select(payments.c.payment_id, payments.c.amount_fen)
            .where(payments.c.order_id == event.order_id, payments.c.status == "applied")
            .with_for_update()
        )
    ).first()
    if payment is None:
        raise PaymentNotFound(f"no applied payment for order {event.order_id}")
    if enrolment_key(list(event.enrolment_ids)) not in set(
        (await uow.session.execute(select(refunds.c.enrolment_key).where(refunds.c.payment_id == payment.payment_id))).scalars()
    ):
        already = await uow.session.scalar(select(func.coalesce(func.sum(refunds.c.amount_fen), 0)).where(refunds.c.payment_id == payment.payment_id))
        if event.amount_fen <= 0 or already + event.amount_fen > payment.amount_fen:
            raise RefundExceedsPayment(f"refund of {event.amount_fen} fen for order {event.order_id} exceeds what is left of {payment.amount_fen}")
    return await request_refund(
        uow.session,
        payment_id=payment.payment_id,
        order_id=event.order_id,
        registration_id=event.registration_id,
        enrolment_ids=list(event.enrolment_ids),
        amount_fen=event.amount_fen,
        reason=event.reason,
        now=ctx.clock.now(),
    )


async def process_one(ctx: Payment) -> uuid.UUID | None:
    """Send one pending refund to its gateway. Returns its id, or None when nothing is pending."""
    async with ctx.unit_of_work() as uow:
        session = uow.session
        row = (
            await session.execute(
                select(refunds, payments.c.gateway, payments.c.transaction_id, attempts.c.out_trade_no)
                .join(payments, payments.c.payment_id == refunds.c.payment_id)
                .join(attempts, attempts.c.attempt_id == payments.c.attempt_id)
                .where(refunds.c.status == "pending")
                .order_by(refunds.c.attempts, refunds.c.created_at)
                .limit(1)
                .with_for_update(of=refunds, skip_locked=True)
            )
        ).first()
        if row is None:
            return None
        now = ctx.clock.now()
        try:
            outcome = await ctx.gateway(row.gateway).refund(
                out_trade_no=row.out_trade_no,
                transaction_id=row.transaction_id,
                amount_yuan=fen_to_yuan(row.amount_fen),
                request_no=row.request_no,
                reason="CET报名退款",
            )
        except GatewayError as exc:
            attempts_made = row.attempts + 1
            failed = attempts_made >= ctx.settings.refund_max_attempts
            await session.execute(
                update(refunds)
                .where(refunds.c.refund_id == row.refund_id)
                .values(attempts=attempts_made, last_error=str(exc)[:500], status="failed" if failed else "pending")
            )
            if failed:  # the candidate's page says so, and support takes it from here
                await uow.publish(
                    RefundFailed(
                        order_id=row.order_id, registration_id=row.registration_id, enrolment_ids=list(row.enrolment_ids),
                        amount_fen=row.amount_fen, failed_at=now, passport_id=await _owner(session, row.order_id), reason=row.reason,
                    ),
                    key=str(row.registration_id),
                )
                alert("refund_failed", "refund %s of order %s (%d fen) failed %d times: %s", row.refund_id, row.order_id, row.amount_fen, attempts_made, exc)
                await audit.record(session, "refund.failed", ("refund", row.refund_id), before={"status": "pending"}, after={"status": "failed", "attempts": attempts_made, "amount_fen": row.amount_fen})
            await uow.commit()
            log.warning("refund %s failed (attempt %d): %s", row.refund_id, attempts_made, exc)
            return row.refund_id
        await session.execute(
            update(refunds)
            .where(refunds.c.refund_id == row.refund_id)
            .values(status="completed", completed_at=now, fund_change=outcome.fund_change, attempts=row.attempts + 1)
        )
        await uow.publish(
            RefundCompleted(
                order_id=row.order_id,
                registration_id=row.registration_id,
                enrolment_ids=list(row.enrolment_ids),
                amount_fen=row.amount_fen,
                refunded_at=now,
                passport_id=await _owner(session, row.order_id),
                subjects=await _subjects(session, list(row.enrolment_ids)),
                reason=row.reason,
                gateway=row.gateway,
            ),
            key=str(row.registration_id),
        )
        await audit.record(session, "refund.completed", ("refund", row.refund_id), before={"status": "pending"}, after={"status": "completed", "amount_fen": row.amount_fen, "gateway": row.gateway, "order_id": row.order_id})
        await uow.commit()
        return row.refund_id


async def _owner(session, order_id: uuid.UUID) -> str:  # noqa: ANN001
    """The registration's current owner (after E12 rebinding), else whoever placed the order."""
    row = (
        await session.execute(
            select(orders.c.passport_id, registrations.c.passport_id.label("owner"))
            .outerjoin(registrations, registrations.c.registration_id == orders.c.registration_id)
            .where(orders.c.order_id == order_id)
        )
    ).first()
    return (row.owner or row.passport_id) if row else ""


async def _subjects(session, enrolment_ids: list[uuid.UUID]) -> list[PaidSubject]:  # noqa: ANN001
    rows = (
        await session.execute(
            select(enrolments.c.enrolment_id, enrolments.c.subject_code, enrolments.c.subject_name, enrolments.c.fee_fen)
            .where(enrolments.c.enrolment_id.in_(enrolment_ids))
            .order_by(enrolments.c.subject_code)
        )
    ).all()
    return [PaidSubject(enrolment_id=r.enrolment_id, subject_code=r.subject_code, subject_name=r.subject_name, fee_fen=r.fee_fen) for r in rows]


async def process_pending(ctx: Payment, limit: int = 100) -> int:
    """The worker's refund job: until nothing is pending (bounded per run)."""
    done: set[uuid.UUID] = set()
    for _ in range(limit):
        refund_id = await process_one(ctx)
        if refund_id is None or refund_id in done:
            break
        done.add(refund_id)
    return len(done)
