"""Settling a payment the gateway reports — by notification, active query or statement — once.

Whatever path reports it, a payment is applied under the order's row lock and the unique
(gateway, attempt, transaction id); the order becomes paid and PaymentConfirmed is published in the
same transaction. A second, different payment of an already paid order keeps no money: it is refunded.

A transaction id already recorded for *another* attempt is not a duplicate: it is a conflict
(a gateway that reused a number, or a lie). It is recorded and alerted, and the payment is applied
only once the gateway's own query confirms it (`confirmed=True`); see service/conflicts.py.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from cet_shared.events.contracts import Gateway, PaidSubject, PaymentConfirmed
from payment.domain.model import Conflict, Finding, PaymentRecord, Refund
from payment.service.alerts import alert
from payment.service.ports import PaymentUnitOfWork

APPLIED = "applied"
DUPLICATE = "duplicate"
SURPLUS_REFUNDED = "surplus_refunded"
AMOUNT_MISMATCH = "amount_mismatch"
UNKNOWN_ORDER = "unknown_order"
CONFLICT = "conflict"
CONFIRMED_BY_QUERY = "confirmed by the gateway's trade query"


@dataclass(frozen=True)
class Settlement:
    outcome: str
    order_id: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None
    conflict_id: int | None = None


async def apply_payment(
    uow: PaymentUnitOfWork,
    *,
    gateway: str,
    out_trade_no: str,
    transaction_id: str,
    amount_fen: int,
    paid_at: datetime,
    source: str,
    now: datetime,
    confirmed: bool = False,
) -> Settlement:
    """`confirmed`: the gateway's own trade query vouches for this (attempt, transaction id, amount),
    so a conflict with another attempt is recorded as settled and the payment applied anyway."""
    attempt = await uow.orders.attempt(gateway, out_trade_no)
    if attempt is None:
        return Settlement(UNKNOWN_ORDER)
    order = await uow.orders.get(attempt.order_id, lock=True)
    assert order is not None  # an attempt's order always exists (foreign key)
    recorded = await uow.payments.with_transaction(gateway, transaction_id)
    same = [r for r in recorded if r.attempt_id == attempt.attempt_id]
    if same and all(r.amount_fen == amount_fen for r in same):
        return Settlement(DUPLICATE, order.order_id)
    if not recorded and amount_fen != order.amount_fen:
        return Settlement(AMOUNT_MISMATCH, order.order_id)
    conflict_id = None
    if recorded:  # recorded for another attempt, or for this one with another amount
        # Applied only on the gateway query's word, and only as a payment of this order's amount.
        applicable = confirmed and not same and amount_fen == order.amount_fen
        conflict_id = await record_conflict(
            uow,
            gateway=gateway,
            transaction_id=transaction_id,
            out_trade_no=out_trade_no,
            order_id=order.order_id,
            amount_fen=amount_fen,
            source=source,
            existing=recorded[0],
            settled=applicable,
            now=now,
        )
        if not applicable:
            return Settlement(CONFLICT, order.order_id, conflict_id=conflict_id)
    paid_before = order.status == "paid"
    payment_id = uuid.uuid4()
    payment = PaymentRecord(
        payment_id,
        order.order_id,
        attempt.attempt_id,
        gateway,
        transaction_id,
        amount_fen,
        paid_at,
        source,
        "surplus" if paid_before else APPLIED,
        now,
    )
    if not await uow.payments.add(payment):
        return Settlement(DUPLICATE, order.order_id)
    await uow.audit.record(
        "payment.recorded",
        ("order", order.order_id),
        before={"status": order.status},
        after={
            "payment_id": payment_id,
            "amount_fen": amount_fen,
            "gateway": gateway,
            "transaction_id": transaction_id,
            "source": source,
            "surplus": paid_before,
        },
        candidate=order.passport_id,
    )
    lines = await uow.orders.lines(order.order_id)
    enrolment_ids = [line.enrolment_id for line in lines]
    if paid_before:
        # The candidate paid the same order twice (e.g. through both gateways): give it back.
        await request_refund(
            uow,
            payment_id=payment_id,
            order_id=order.order_id,
            registration_id=order.registration_id,
            enrolment_ids=enrolment_ids,
            amount_fen=amount_fen,
            reason="duplicate_payment",
            now=now,
        )
        return Settlement(SURPLUS_REFUNDED, order.order_id, payment_id, conflict_id)
    # Paid even when the order was closed because a subject expired meanwhile: the money is real,
    # and enrolment decides whether the seat can be re-taken or the payment refunded (Y4).
    await uow.orders.mark_paid(order.order_id, paid_at)
    await uow.publish(
        PaymentConfirmed(
            order_id=order.order_id,
            registration_id=order.registration_id,
            passport_id=order.owner or order.passport_id,
            enrolment_ids=enrolment_ids,
            amount_fen=amount_fen,
            gateway=cast(Gateway, gateway),  # an attempt exists only for a configured gateway
            gateway_transaction_id=transaction_id,
            paid_at=paid_at,
            subjects=[
                PaidSubject(enrolment_id=line.enrolment_id, subject_code=line.subject_code, subject_name=line.subject_name, fee_fen=line.fee_fen)
                for line in lines
            ],
        ),
        key=str(order.registration_id),
    )
    return Settlement(APPLIED, order.order_id, payment_id, conflict_id)


async def record_conflict(
    uow: PaymentUnitOfWork,
    *,
    gateway: str,
    transaction_id: str,
    out_trade_no: str,
    order_id: uuid.UUID,
    amount_fen: int,
    source: str,
    existing: PaymentRecord,
    settled: bool,
    now: datetime,
) -> int:
    """Record (or count again) the conflict; the first time it is also a reconciliation finding.
    Every sighting is an alert: money may have been taken for a subject we have not marked paid."""
    status = "settled" if settled else "open"
    conflict_id, times_seen = await uow.payments.record_conflict(
        Conflict(
            0,
            gateway,
            transaction_id,
            out_trade_no,
            order_id,
            amount_fen,
            source,
            existing.payment_id,
            existing.order_id,
            existing.amount_fen,
            status,
            CONFIRMED_BY_QUERY if settled else None,
            1,
            now,
            now if settled else None,
            None,
        )
    )
    await uow.audit.record(
        "payment.conflict_seen",
        ("payment_conflict", conflict_id),
        after={"status": status, "times_seen": times_seen, "source": source, "amount_fen": amount_fen, "transaction_id": transaction_id},
    )
    if times_seen == 1:
        detail = f"{source}: transaction id already recorded for order {existing.order_id}; conflict {conflict_id}"
        await uow.payments.add_findings([Finding("transaction_conflict", out_trade_no, transaction_id, amount_fen, existing.amount_fen, detail)], run_id=None)
    alert(
        "payment_conflict",
        "%s transaction %s reported for %s (order %s) is already recorded for order %s (%s, seen %d times, %s)",
        gateway,
        transaction_id,
        out_trade_no,
        order_id,
        existing.order_id,
        source,
        times_seen,
        status,
    )
    return conflict_id


def enrolment_key(enrolment_ids: list[uuid.UUID]) -> str:
    return hashlib.sha256(",".join(sorted(str(e) for e in enrolment_ids)).encode()).hexdigest()[:32]


async def request_refund(
    uow: PaymentUnitOfWork,
    *,
    payment_id: uuid.UUID,
    order_id: uuid.UUID,
    registration_id: uuid.UUID,
    enrolment_ids: list[uuid.UUID],
    amount_fen: int,
    reason: str,
    now: datetime,
) -> bool:
    """Queue a refund; False when the same enrolments of this payment were already queued."""
    refund_id = uuid.uuid4()
    queued = await uow.refunds.request(
        Refund(
            refund_id,
            payment_id,
            order_id,
            registration_id,
            enrolment_ids,
            enrolment_key(enrolment_ids),
            amount_fen,
            reason,
            request_no="RF" + refund_id.hex.upper(),
            created_at=now,
        )
    )
    if queued:
        await uow.audit.record(
            "refund.requested", ("refund", refund_id), after={"order_id": order_id, "amount_fen": amount_fen, "reason": reason, "enrolment_ids": enrolment_ids}
        )
    return queued
