"""Events eligibility keeps projections from: passport emails (E11), exam session windows (E5, E6)
and each registration's subjects (E9)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import (
    AccountEmailChanged,
    AccountRegistered,
    ExamSessionPublished,
    SubjectCancelled,
    SubjectEnrolled,
    SubjectExpired,
    SubjectPaid,
)
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from cet_shared.revocations import revocation_consumer
from eligibility.bootstrap import EligibilityContainer
from eligibility.db.tables import accounts, exam_sessions, registration_subjects, registrations

CONSUMER_GROUP = "eligibility"


async def set_subject_status(uow: UnitOfWork, *, enrolment_id, registration_id, status: str, at) -> None:  # noqa: ANN001
    """Record a subject's state for the E9 sweeper. The registration's row lock comes first: it is
    the lock the sweeper holds while it decides, so a subject and a release never cross."""
    session = uow.session
    await session.execute(select(registrations.c.id).where(registrations.c.id == registration_id).with_for_update())
    statement = insert(registration_subjects).values(enrolment_id=enrolment_id, registration_id=registration_id, status=status, updated_at=at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["enrolment_id"], set_={"status": statement.excluded.status, "updated_at": statement.excluded.updated_at}
        )
    )


def build_consumers(ctx: EligibilityContainer) -> list[EventConsumer]:
    consumer = EventConsumer(CONSUMER_GROUP, ctx.unit_of_work, max_attempts=ctx.settings.consumer_max_attempts)

    async def remember_email(uow: UnitOfWork, passport_id: str, email: str, at) -> None:  # noqa: ANN001
        statement = insert(accounts).values(passport_id=passport_id, email=email, updated_at=at)
        # Events of one account arrive in order (key = passport id); the guard keeps an old
        # redelivered email from overwriting a newer one all the same.
        await uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=["passport_id"],
                set_={"email": statement.excluded.email, "updated_at": statement.excluded.updated_at},
                where=accounts.c.updated_at <= statement.excluded.updated_at,
            )
        )

    @consumer.handles(AccountRegistered)
    async def account_registered(uow: UnitOfWork, event: AccountRegistered, envelope: EventEnvelope) -> None:
        await remember_email(uow, event.passport_id, event.email, event.registered_at)

    @consumer.handles(AccountEmailChanged)
    async def email_changed(uow: UnitOfWork, event: AccountEmailChanged, envelope: EventEnvelope) -> None:
        await remember_email(uow, event.passport_id, event.email, event.changed_at)

    @consumer.handles(ExamSessionPublished)
    async def session_published(uow: UnitOfWork, event: ExamSessionPublished, envelope: EventEnvelope) -> None:
        values = {"name": event.name, "registration_opens_at": event.registration_opens_at, "registration_closes_at": event.registration_closes_at}
        statement = insert(exam_sessions).values(id=event.exam_session_id, **values)
        await uow.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))

    @consumer.handles(SubjectEnrolled)
    async def enrolled(uow: UnitOfWork, event: SubjectEnrolled, envelope: EventEnvelope) -> None:
        await set_subject_status(uow, enrolment_id=event.enrolment_id, registration_id=event.registration_id, status="enrolled", at=envelope.occurred_at)

    @consumer.handles(SubjectPaid)
    async def paid(uow: UnitOfWork, event: SubjectPaid, envelope: EventEnvelope) -> None:
        await set_subject_status(uow, enrolment_id=event.enrolment_id, registration_id=event.registration_id, status="paid", at=envelope.occurred_at)

    @consumer.handles(SubjectCancelled)
    async def cancelled(uow: UnitOfWork, event: SubjectCancelled, envelope: EventEnvelope) -> None:
        await set_subject_status(uow, enrolment_id=event.enrolment_id, registration_id=event.registration_id, status="cancelled", at=envelope.occurred_at)

    @consumer.handles(SubjectExpired)
    async def expired(uow: UnitOfWork, event: SubjectExpired, envelope: EventEnvelope) -> None:
        await set_subject_status(uow, enrolment_id=event.enrolment_id, registration_id=event.registration_id, status="expired", at=envelope.occurred_at)

    return [consumer, revocation_consumer("eligibility", ctx)]  # SessionsRevoked: its own group (cet_shared.revocations)
