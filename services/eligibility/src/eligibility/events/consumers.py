"""Events eligibility reacts to: passport emails (E11), exam session windows (E5, E6), and a
registration enrolment found empty past its lifetime (E9). Subject changes are not projected here:
enrolment keeps E9's timer and tells eligibility once (RegistrationLeftEmpty)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import (
    AccountEmailChanged,
    AccountRegistered,
    ExamSessionPublished,
    RegistrationLeftEmpty,
)
from cet_shared.events.envelope import EventEnvelope
from cet_shared.messaging import EventConsumer
from cet_shared.revocations import revocation_consumer
from eligibility.bootstrap import EligibilityContainer
from eligibility.db.tables import accounts, exam_sessions
from eligibility.service.release import release_left_empty

CONSUMER_GROUP = "eligibility"


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

    @consumer.handles(RegistrationLeftEmpty)
    async def left_empty(uow: UnitOfWork, event: RegistrationLeftEmpty, envelope: EventEnvelope) -> None:
        await release_left_empty(uow, event.registration_id)  # the consumer runs on the service's unit of work

    return [consumer, revocation_consumer("eligibility", ctx)]  # SessionsRevoked: its own group (cet_shared.revocations)
