"""The mails about money: a receipt for what a payment bought, a notice when money went back."""

from __future__ import annotations

from cet_shared.events.contracts import PaymentAllocated, RefundCompleted
from passport.domain.receipts import RECEIPT_SUBJECT, REFUND_SUBJECT, Line, receipt, refund_notice
from passport.mail_templates import Mail
from passport.service.ports import PassportUnitOfWork


async def _email(uow: PassportUnitOfWork, passport_id: str) -> str | None:
    account = await uow.accounts.get(passport_id) if passport_id else None
    return account.email if account else None


async def send_receipt(uow: PassportUnitOfWork, event: PaymentAllocated) -> None:
    email = await _email(uow, event.passport_id)
    if email is None or not event.honoured:
        return  # nothing was bought: the refund notice follows when the money is back
    lines = [Line(s.subject_code, s.subject_name, s.fee_fen) for s in event.honoured]
    body = receipt(
        order_id=event.order_id,
        gateway=event.gateway,
        transaction_id=event.gateway_transaction_id,
        paid_at=event.paid_at,
        lines=lines,
        refund_fen=event.refund_fen,
    )
    await uow.outbox.queue_mail(Mail(to=email, subject=RECEIPT_SUBJECT, body=body))


async def send_refund_notice(uow: PassportUnitOfWork, event: RefundCompleted) -> None:
    email = await _email(uow, event.passport_id)
    if email is None:
        return  # an event from before RefundCompleted named the owner: no one to write to
    lines = [Line(s.subject_code, s.subject_name, s.fee_fen) for s in event.subjects]
    body = refund_notice(
        order_id=event.order_id, gateway=event.gateway, amount_fen=event.amount_fen, refunded_at=event.refunded_at, reason=event.reason, lines=lines
    )
    await uow.outbox.queue_mail(Mail(to=email, subject=REFUND_SUBJECT, body=body))
