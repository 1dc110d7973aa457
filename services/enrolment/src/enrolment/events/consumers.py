"""Events enrolment reacts to: eligibility's registrations and payment's payments."""

from __future__ import annotations

from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import (
    PaymentConfirmed,
    QualificationGranted,
    RefundCompleted,
    RefundFailed,
    RegistrationBound,
    RegistrationRebound,
    RegistrationReleased,
)
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from cet_shared.revocations import revocation_consumer
from enrolment.bootstrap import EnrolmentContainer
from enrolment.service import projections


def build_consumers(ctx: EnrolmentContainer) -> list[EventConsumer]:
    """Events that move seats (a release returns them, a late payment re-takes one) commit one at a
    time: in a batch's transaction an offering's row lock would be held while the batch waits for
    a registration that a candidate holds while waiting for that offering — a deadlock."""
    registrations = EventConsumer("enrolment.registrations", ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)
    payments = EventConsumer("enrolment.payments", ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)

    @registrations.handles(RegistrationBound)
    async def bound(uow: UnitOfWork, event: RegistrationBound, envelope: EventEnvelope) -> None:
        await projections.on_registration_bound(uow, event)

    @registrations.handles(QualificationGranted)
    async def granted(uow: UnitOfWork, event: QualificationGranted, envelope: EventEnvelope) -> None:
        await projections.on_qualification_granted(uow, event)

    @registrations.handles(RegistrationRebound)
    async def rebound(uow: UnitOfWork, event: RegistrationRebound, envelope: EventEnvelope) -> None:
        await projections.on_registration_rebound(uow, event)

    @registrations.handles(RegistrationReleased, own_transaction=True)
    async def released(uow: UnitOfWork, event: RegistrationReleased, envelope: EventEnvelope) -> None:
        await projections.on_registration_released(ctx.clock, ctx.settings.unpaid_lifetime, uow, event)

    @payments.handles(PaymentConfirmed, own_transaction=True)
    async def paid(uow: UnitOfWork, event: PaymentConfirmed, envelope: EventEnvelope) -> None:
        await projections.on_payment_confirmed(ctx.clock, uow, event)

    @payments.handles(RefundCompleted, own_transaction=True)
    async def refunded(uow: UnitOfWork, event: RefundCompleted, envelope: EventEnvelope) -> None:
        await projections.on_refund_completed(uow, event)

    @payments.handles(RefundFailed)
    async def refund_failed(uow: UnitOfWork, event: RefundFailed, envelope: EventEnvelope) -> None:
        await projections.on_refund_failed(uow, event)

    return [registrations, payments, revocation_consumer("enrolment", ctx)]  # SessionsRevoked: its own group (cet_shared.revocations)
