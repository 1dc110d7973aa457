"""Events passport reacts to: the mails about money — a receipt for what a payment bought (Y6,
after enrolment allocated it to seats), a refund notice when money went back (Y4)."""

from __future__ import annotations

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import PaymentAllocated, RefundCompleted
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from passport.bootstrap import PassportContainer
from passport.service import receipts


def build_consumers(ctx: PassportContainer) -> list[EventConsumer]:
    consumer = EventConsumer("passport", ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)

    @consumer.handles(PaymentAllocated)
    async def send_receipt(uow: UnitOfWork, event: PaymentAllocated, envelope: EventEnvelope) -> None:
        await receipts.send_receipt(uow, event)

    @consumer.handles(RefundCompleted)
    async def send_refund_notice(uow: UnitOfWork, event: RefundCompleted, envelope: EventEnvelope) -> None:
        await receipts.send_refund_notice(uow, event)

    return [consumer]
