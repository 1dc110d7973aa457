"""Events passport reacts to: the mails about money — a receipt for what a payment bought (Y6,
after enrolment allocated it to seats), a refund notice when money went back (Y4)."""

from __future__ import annotations

from cet_shared.events.contracts import PaymentAllocated, RefundCompleted
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from passport.bootstrap import PassportContainer
from passport.db.unit_of_work import SqlPassportUnitOfWork
from passport.service import receipts


def build_consumers(ctx: PassportContainer) -> list[EventConsumer]:
    # ctx.unit_of_work makes passport's own unit of work: the handlers use its repositories.
    consumer = EventConsumer("passport", ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)

    @consumer.handles(PaymentAllocated)
    async def send_receipt(uow: SqlPassportUnitOfWork, event: PaymentAllocated, envelope: EventEnvelope) -> None:
        await receipts.send_receipt(uow, event)

    @consumer.handles(RefundCompleted)
    async def send_refund_notice(uow: SqlPassportUnitOfWork, event: RefundCompleted, envelope: EventEnvelope) -> None:
        await receipts.send_refund_notice(uow, event)

    return [consumer]
