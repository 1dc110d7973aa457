"""Settling a payment the gateway reports — by notification, active query or statement — once.

Whatever path reports it, a payment is applied under the order's row lock and the unique
(gateway, transaction id); the order becomes paid and PaymentConfirmed is published in the same
transaction. A second, different payment of an already paid order keeps no money: it is refunded.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import PaidSubject, PaymentConfirmed
from payment.db.tables import attempts, enrolments, order_items, orders, payments, refunds, registrations

APPLIED = "applied"
DUPLICATE = "duplicate"
SURPLUS_REFUNDED = "surplus_refunded"
AMOUNT_MISMATCH = "amount_mismatch"
UNKNOWN_ORDER = "unknown_order"


@dataclass(frozen=True)
class Settlement:
    outcome: str
    order_id: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None


async def find_attempt(session: AsyncSession, gateway: str, out_trade_no: str):  # noqa: ANN201
    return (
        await session.execute(select(attempts).where(attempts.c.out_trade_no == out_trade_no, attempts.c.gateway == gateway))
    ).first()


async def apply_payment(
    uow: UnitOfWork, *, gateway: str, out_trade_no: str, transaction_id: str, amount_fen: int, paid_at: datetime, source: str, now: datetime
) -> Settlement:
    session = uow.session
    attempt = await find_attempt(session, gateway, out_trade_no)
    if attempt is None:
        return Settlement(UNKNOWN_ORDER)
    order = (await session.execute(select(orders).where(orders.c.order_id == attempt.order_id).with_for_update())).one()
    if amount_fen != order.amount_fen:
        return Settlement(AMOUNT_MISMATCH, order.order_id)
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
            .on_conflict_do_nothing(index_elements=["gateway", "transaction_id"])
            .returning(payments.c.payment_id)
        )
    ).first()
    if inserted is None:
        return Settlement(DUPLICATE, order.order_id)
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
        return Settlement(SURPLUS_REFUNDED, order.order_id, payment_id)
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
    return Settlement(APPLIED, order.order_id, payment_id)


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
    return created.first() is not None
