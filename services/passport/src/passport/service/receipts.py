"""The mails about money: a receipt for what a payment bought, a notice when money went back."""

from __future__ import annotations

from sqlalchemy import select

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import PaymentAllocated, RefundCompleted
from passport.db.tables import accounts
from passport.domain.receipts import RECEIPT_SUBJECT, REFUND_SUBJECT, Line, receipt, refund_notice
from passport.mail import queue_mail


async def _email(uow: UnitOfWork, passport_id: str) -> str | None:
    if not passport_id:
        return None
    return await uow.session.scalar(select(accounts.c.email).where(accounts.c.passport_id == passport_id))


async def send_receipt(uow: UnitOfWork, event: PaymentAllocated) -> None:
    email = await _email(uow, event.passport_id)
    if email is None or not event.honoured:
        return  # nothing was bought: the refund notice follows when the money is back
    lines = [Line(s.subject_code, s.subject_name, s.fee_fen) for s in event.honoured]
    body = receipt(order_id=event.order_id, gateway=event.gateway, transaction_id=event.gateway_transaction_id, paid_at=event.paid_at,
                   lines=lines, refund_fen=event.refund_fen)
    await queue_mail(uow.session, to=email, subject=RECEIPT_SUBJECT, body=body)


async def send_refund_notice(uow: UnitOfWork, event: RefundCompleted) -> None:
    email = await _email(uow, event.passport_id)
    if email is None:
        return  # an event from before RefundCompleted named the owner: no one to write to
    lines = [Line(s.subject_code, s.subject_name, s.fee_fen) for s in event.subjects]
    body = refund_notice(order_id=event.order_id, gateway=event.gateway, amount_fen=event.amount_fen, refunded_at=event.refunded_at,
                         reason=event.reason, lines=lines)
    await queue_mail(uow.session, to=email, subject=REFUND_SUBJECT, body=body)
