"""Events payment reacts to: its projections of registrations and enrolments, and RefundRequired."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from cet_shared.db import UnitOfWork
from cet_shared.events.contracts import (
    RefundRequired,
    RegistrationBound,
    RegistrationRebound,
    RegistrationReleased,
    SubjectCancelled,
    SubjectEnrolled,
    SubjectExpired,
    SubjectPaid,
)
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from cet_shared.revocations import revocation_consumer
from payment.bootstrap import PaymentContainer
from payment.db.tables import enrolments, order_items, orders, registrations
from payment.service.refunds import on_refund_required

GROUP = "payment"


async def _close_open_orders(uow: UnitOfWork, enrolment_id, reason: str) -> None:  # noqa: ANN001
    """A subject left its order: the order can no longer be paid as is (its other subjects are free again)."""
    order_ids = list(
        (await uow.session.execute(select(order_items.c.order_id).where(order_items.c.enrolment_id == enrolment_id, order_items.c.open))).scalars()
    )
    if order_ids:
        await uow.session.execute(
            update(orders).where(orders.c.order_id.in_(order_ids), orders.c.status == "open").values(status="closed", closed_reason=reason)
        )
        await uow.session.execute(update(order_items).where(order_items.c.order_id.in_(order_ids)).values(open=False))


def build_consumers(ctx: PaymentContainer) -> list[EventConsumer]:
    consumer = EventConsumer(GROUP, ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)

    @consumer.handles(RegistrationBound)
    async def bound(uow: UnitOfWork, event: RegistrationBound, envelope: EventEnvelope) -> None:
        statement = insert(registrations).values(registration_id=event.registration_id, passport_id=event.passport_id, status="bound")
        await uow.session.execute(
            statement.on_conflict_do_update(index_elements=["registration_id"], set_={"passport_id": event.passport_id, "status": "bound"})
        )

    @consumer.handles(RegistrationRebound)
    async def rebound(uow: UnitOfWork, event: RegistrationRebound, envelope: EventEnvelope) -> None:
        statement = insert(registrations).values(registration_id=event.registration_id, passport_id=event.new_passport_id, status="bound")
        await uow.session.execute(statement.on_conflict_do_update(index_elements=["registration_id"], set_={"passport_id": event.new_passport_id}))
        await uow.session.execute(update(enrolments).where(enrolments.c.registration_id == event.registration_id).values(passport_id=event.new_passport_id))

    @consumer.handles(RegistrationReleased)
    async def released(uow: UnitOfWork, event: RegistrationReleased, envelope: EventEnvelope) -> None:
        await uow.session.execute(update(registrations).where(registrations.c.registration_id == event.registration_id).values(status="released"))
        # E9: the registration is gone, and with it whatever its open orders were for.
        for enrolment_id in (
            await uow.session.execute(select(enrolments.c.enrolment_id).where(enrolments.c.registration_id == event.registration_id))
        ).scalars():
            await _close_open_orders(uow, enrolment_id, "registration_released")

    @consumer.handles_together(SubjectEnrolled)
    async def enrolled(uow: UnitOfWork, events: list[tuple[SubjectEnrolled, EventEnvelope]]) -> None:
        # Every hold sends one: a batch's holds are projected by one statement.
        rows = [
            {
                "enrolment_id": event.enrolment_id,
                "registration_id": event.registration_id,
                "passport_id": event.passport_id,
                "subject_code": event.subject_code,
                "subject_name": event.subject_name,
                "fee_fen": event.fee_fen,
                "status": "unpaid",
                "expires_at": event.expires_at,
            }
            for event, _ in events
        ]
        await uow.session.execute(insert(enrolments).on_conflict_do_nothing(), rows)

    async def left(uow: UnitOfWork, enrolment_id, status: str) -> None:  # noqa: ANN001
        await uow.session.execute(update(enrolments).where(enrolments.c.enrolment_id == enrolment_id, enrolments.c.status == "unpaid").values(status=status))
        await _close_open_orders(uow, enrolment_id, f"subject_{status}")

    @consumer.handles(SubjectCancelled)
    async def cancelled(uow: UnitOfWork, event: SubjectCancelled, envelope: EventEnvelope) -> None:
        await left(uow, event.enrolment_id, "cancelled")

    @consumer.handles(SubjectExpired)
    async def expired(uow: UnitOfWork, event: SubjectExpired, envelope: EventEnvelope) -> None:
        await left(uow, event.enrolment_id, "expired")

    @consumer.handles(SubjectPaid)
    async def paid(uow: UnitOfWork, event: SubjectPaid, envelope: EventEnvelope) -> None:
        # Also after a late payment re-took its seat (Y4): the subject is paid again.
        await uow.session.execute(update(enrolments).where(enrolments.c.enrolment_id == event.enrolment_id).values(status="paid"))
        # Paid another way (e.g. the school's collective payment): an open order for it is moot.
        await _close_open_orders(uow, event.enrolment_id, "subject_paid")

    @consumer.handles(RefundRequired)
    async def refund_required(uow: UnitOfWork, event: RefundRequired, envelope: EventEnvelope) -> None:
        await on_refund_required(uow, ctx.clock, event)

    return [consumer, revocation_consumer("payment", ctx)]  # SessionsRevoked: its own group (cet_shared.revocations)
