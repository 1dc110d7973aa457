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

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared import audit
from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import PaidSubject, PaymentConfirmed
from payment.db.tables import attempts, enrolments, order_items, orders, payment_conflicts, payments, reconciliation_findings, refunds, registrations
from payment.service.alerts import alert

APPLIED = "applied"
DUPLICATE = "duplicate"
SURPLUS_REFUNDED = "surplus_refunded"
AMOUNT_MISMATCH = "amount_mismatch"
UNKNOWN_ORDER = "unknown_order"
CONFLICT = "conflict"


@dataclass(frozen=True)
class Settlement:
    outcome: str
    order_id: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None
    conflict_id: int | None = None


async def find_attempt(session: AsyncSession, gateway: str, out_trade_no: str):  # noqa: ANN201
    return (
        await session.execute(select(attempts).where(attempts.c.out_trade_no == out_trade_no, attempts.c.gateway == gateway))
    ).first()


async def apply_payment(
    uow: UnitOfWork,
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
    session = uow.session
    attempt = await find_attempt(session, gateway, out_trade_no)
    if attempt is None:
        return Settlement(UNKNOWN_ORDER)
    order = (await session.execute(select(orders).where(orders.c.order_id == attempt.order_id).with_for_update())).one()
    recorded = (
        await session.execute(
            select(payments.c.payment_id, payments.c.attempt_id, payments.c.order_id, payments.c.amount_fen)
            .where(payments.c.gateway == gateway, payments.c.transaction_id == transaction_id)
            .order_by(payments.c.created_at)
        )
    ).all()
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
            session, gateway=gateway, transaction_id=transaction_id, out_trade_no=out_trade_no, order_id=order.order_id,
            amount_fen=amount_fen, source=source, existing=recorded[0], settled=applicable, now=now,
        )
        if not applicable:
            return Settlement(CONFLICT, order.order_id, conflict_id=conflict_id)
    paid_before = order.status == "paid"
    payment_id = uuid.uuid4()
    inserted = (
        await session.execute(
            insert(payments)
            .values(
                payment_id=payment_id,
                order_id=order.order_id,
                attempt_id=attempt.attempt_id,
                gateway=gateway,
                transaction_id=transaction_id,
                amount_fen=amount_fen,
                paid_at=paid_at,
                source=source,
                status="surplus" if paid_before else APPLIED,
                created_at=now,
            )
            .on_conflict_do_nothing(constraint="payments_once_per_attempt")
            .returning(payments.c.payment_id)
        )
    ).first()
    if inserted is None:
        return Settlement(DUPLICATE, order.order_id)
    await audit.record(session, "payment.recorded", ("order", order.order_id), before={"status": order.status}, after={"payment_id": payment_id, "amount_fen": amount_fen, "gateway": gateway, "transaction_id": transaction_id, "source": source, "surplus": paid_before}, candidate=order.passport_id)
    lines = (
        await session.execute(
            select(order_items.c.enrolment_id, order_items.c.fee_fen, enrolments.c.subject_code, enrolments.c.subject_name)
            .join(enrolments, enrolments.c.enrolment_id == order_items.c.enrolment_id)
            .where(order_items.c.order_id == order.order_id)
            .order_by(enrolments.c.subject_code)
        )
    ).all()
    enrolment_ids = [line.enrolment_id for line in lines]
    if paid_before:
        # The candidate paid the same order twice (e.g. through both gateways): give it back.
        await request_refund(
            session, payment_id=payment_id, order_id=order.order_id, registration_id=order.registration_id,
            enrolment_ids=enrolment_ids, amount_fen=amount_fen, reason="duplicate_payment", now=now,
        )
        return Settlement(SURPLUS_REFUNDED, order.order_id, payment_id, conflict_id)
    # Paid even when the order was closed because a subject expired meanwhile: the money is real,
    # and enrolment decides whether the seat can be re-taken or the payment refunded (Y4).
    await session.execute(update(orders).where(orders.c.order_id == order.order_id).values(status="paid", paid_at=paid_at))
    await session.execute(update(order_items).where(order_items.c.order_id == order.order_id).values(open=False))
    owner = await session.scalar(select(registrations.c.passport_id).where(registrations.c.registration_id == order.registration_id))
    await uow.publish(
        PaymentConfirmed(
            order_id=order.order_id,
            registration_id=order.registration_id,
            passport_id=owner or order.passport_id,
            enrolment_ids=enrolment_ids,
            amount_fen=amount_fen,
            gateway=gateway,
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
    session: AsyncSession, *, gateway: str, transaction_id: str, out_trade_no: str, order_id: uuid.UUID, amount_fen: int,
    source: str, existing, settled: bool, now: datetime,  # noqa: ANN001 - a payments row
) -> int:
    """Record (or count again) the conflict; the first time it is also a reconciliation finding.
    Every sighting is an alert: money may have been taken for a subject we have not marked paid."""
    status = "settled" if settled else "open"
    row = (
        await session.execute(
            insert(payment_conflicts)
            .values(
                gateway=gateway, transaction_id=transaction_id, out_trade_no=out_trade_no, order_id=order_id, amount_fen=amount_fen,
                source=source, existing_payment_id=existing.payment_id, existing_order_id=existing.order_id,
                existing_amount_fen=existing.amount_fen, status=status, detected_at=now,
                resolution="confirmed by the gateway's trade query" if settled else None, resolved_at=now if settled else None,
            )
            .on_conflict_do_update(
                constraint="payment_conflicts_once",
                set_={"times_seen": payment_conflicts.c.times_seen + 1}
                | ({"status": "settled", "resolution": "confirmed by the gateway's trade query", "resolved_at": now} if settled else {}),
            )
            .returning(payment_conflicts.c.id, payment_conflicts.c.times_seen)
        )
    ).one()
    await audit.record(session, "payment.conflict_seen", ("payment_conflict", row.id), after={"status": status, "times_seen": row.times_seen, "source": source, "amount_fen": amount_fen, "transaction_id": transaction_id})
    if row.times_seen == 1:
        await session.execute(
            insert(reconciliation_findings).values(
                run_id=None, kind="transaction_conflict", out_trade_no=out_trade_no, transaction_id=transaction_id,
                gateway_amount_fen=amount_fen, our_amount_fen=existing.amount_fen,
                detail=f"{source}: transaction id already recorded for order {existing.order_id}; conflict {row.id}",
            )
        )
    alert(
        "payment_conflict", "%s transaction %s reported for %s (order %s) is already recorded for order %s (%s, seen %d times, %s)",
        gateway, transaction_id, out_trade_no, order_id, existing.order_id, source, row.times_seen, status,
    )
    return row.id


def enrolment_key(enrolment_ids: list[uuid.UUID]) -> str:
    return hashlib.sha256(",".join(sorted(str(e) for e in enrolment_ids)).encode()).hexdigest()[:32]


async def request_refund(
    session: AsyncSession,
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
    created = await session.execute(
        insert(refunds)
        .values(
            refund_id=refund_id,
            payment_id=payment_id,
            order_id=order_id,
            registration_id=registration_id,
            enrolment_ids=enrolment_ids,
            enrolment_key=enrolment_key(enrolment_ids),
            amount_fen=amount_fen,
            reason=reason,
            request_no="RF" + refund_id.hex.upper(),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["payment_id", "enrolment_key"])
        .returning(refunds.c.refund_id)
    )
    queued = created.first() is not None
    if queued:
        await audit.record(session, "refund.requested", ("refund", refund_id), after={"order_id": order_id, "amount_fen": amount_fen, "reason": reason, "enrolment_ids": enrolment_ids})
    return queued
