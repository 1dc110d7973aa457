"""Y4: refunds through the gateway adapter. A refund row is created once per (payment,
enrolments); the processor claims pending rows with FOR UPDATE SKIP LOCKED, so concurrent
workers never both send one, and the gateway request number makes even a resend harmless."""

from __future__ import annotations

import logging
import uuid

from cet_shared.clock import Clock
from cet_shared.events.contracts import PaidSubject, RefundCompleted, RefundFailed, RefundRequired
from payment.domain.money import fen_to_yuan
from payment.gateways.base import GatewayError
from payment.service.alerts import alert
from payment.service.ports import Gateways, PaymentUnitOfWork
from payment.service.settlement import enrolment_key, request_refund
from payment.settings import PaymentSettings

log = logging.getLogger(__name__)


class PaymentNotFound(Exception):
    """RefundRequired for an order we hold no applied payment of (retried, then dead-lettered)."""


class RefundExceedsPayment(Exception):
    """Never give back more than was paid: such a request goes to the dead-letter topic for review."""


async def on_refund_required(uow: PaymentUnitOfWork, clock: Clock, event: RefundRequired) -> bool:
    """Inside the consumer's transaction (`uow` entered by it): queue the refund enrolment asks for."""
    payment = await uow.payments.applied_of(event.order_id)
    if payment is None:
        raise PaymentNotFound(f"no applied payment for order {event.order_id}")
    if enrolment_key(list(event.enrolment_ids)) not in await uow.refunds.keys_of(payment.payment_id):
        already = await uow.refunds.total_of(payment.payment_id)
        if event.amount_fen <= 0 or already + event.amount_fen > payment.amount_fen:
            raise RefundExceedsPayment(f"refund of {event.amount_fen} fen for order {event.order_id} exceeds what is left of {payment.amount_fen}")
    return await request_refund(
        uow,
        payment_id=payment.payment_id,
        order_id=event.order_id,
        registration_id=event.registration_id,
        enrolment_ids=list(event.enrolment_ids),
        amount_fen=event.amount_fen,
        reason=event.reason,
        now=clock.now(),
    )


async def _owner(uow: PaymentUnitOfWork, order_id: uuid.UUID) -> str:
    """The registration's current owner (after E12 rebinding), else whoever placed the order."""
    order = await uow.orders.get(order_id)
    return (order.owner or order.passport_id) if order else ""


async def process_one(uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, gateways: Gateways) -> uuid.UUID | None:
    """Send one pending refund to its gateway. Returns its id, or None when nothing is pending."""
    async with uow:
        pending = await uow.refunds.next_pending()
        if pending is None:
            return None
        refund = pending.refund
        now = clock.now()
        try:
            outcome = await gateways[pending.gateway].refund(
                out_trade_no=pending.out_trade_no,
                transaction_id=pending.transaction_id,
                amount_yuan=fen_to_yuan(refund.amount_fen),
                request_no=refund.request_no,
                reason="CET报名退款",
            )
        except GatewayError as exc:
            attempts_made = refund.attempts + 1
            failed = attempts_made >= settings.refund_max_attempts
            await uow.refunds.failed_attempt(refund.refund_id, attempts=attempts_made, error=str(exc), failed=failed)
            if failed:  # the candidate's page says so, and support takes it from here
                await uow.publish(
                    RefundFailed(
                        order_id=refund.order_id,
                        registration_id=refund.registration_id,
                        enrolment_ids=refund.enrolment_ids,
                        amount_fen=refund.amount_fen,
                        failed_at=now,
                        passport_id=await _owner(uow, refund.order_id),
                        reason=refund.reason,
                    ),
                    key=str(refund.registration_id),
                )
                alert(
                    "refund_failed",
                    "refund %s of order %s (%d fen) failed %d times: %s",
                    refund.refund_id,
                    refund.order_id,
                    refund.amount_fen,
                    attempts_made,
                    exc,
                )
                await uow.audit.record(
                    "refund.failed",
                    ("refund", refund.refund_id),
                    before={"status": "pending"},
                    after={"status": "failed", "attempts": attempts_made, "amount_fen": refund.amount_fen},
                )
            await uow.commit()
            log.warning("refund %s failed (attempt %d): %s", refund.refund_id, attempts_made, exc)
            return refund.refund_id
        await uow.refunds.completed(refund.refund_id, at=now, fund_change=outcome.fund_change, attempts=refund.attempts + 1)
        subjects = await uow.orders.subject_lines(refund.enrolment_ids)
        await uow.publish(
            RefundCompleted(
                order_id=refund.order_id,
                registration_id=refund.registration_id,
                enrolment_ids=refund.enrolment_ids,
                amount_fen=refund.amount_fen,
                refunded_at=now,
                passport_id=await _owner(uow, refund.order_id),
                subjects=[
                    PaidSubject(enrolment_id=s.enrolment_id, subject_code=s.subject_code, subject_name=s.subject_name, fee_fen=s.fee_fen) for s in subjects
                ],
                reason=refund.reason,
                gateway=pending.gateway,
            ),
            key=str(refund.registration_id),
        )
        await uow.audit.record(
            "refund.completed",
            ("refund", refund.refund_id),
            before={"status": "pending"},
            after={"status": "completed", "amount_fen": refund.amount_fen, "gateway": pending.gateway, "order_id": refund.order_id},
        )
        await uow.commit()
        return refund.refund_id


async def process_pending(uow: PaymentUnitOfWork, clock: Clock, settings: PaymentSettings, gateways: Gateways, limit: int = 100) -> int:
    """The worker's refund job: until nothing is pending (bounded per run)."""
    done: set[uuid.UUID] = set()
    for _ in range(limit):
        refund_id = await process_one(uow, clock, settings, gateways)
        if refund_id is None or refund_id in done:
            break
        done.add(refund_id)
    return len(done)
