"""E9: a registration enrolment found empty past its lifetime is deleted and its binding released.

Enrolment keeps E9's timer (it owns the subjects, `enrolment.service.empty_registrations`): it
closes the registration to new subjects under its own row lock and tells us once
(RegistrationLeftEmpty). Here the registration is deleted and RegistrationReleased announced, so
the candidate starts again; enrolment, on RegistrationReleased, leaves its waiting lists and
payment closes its open orders. A redelivered notice finds nothing left to delete."""

from __future__ import annotations

import uuid

from cet_shared.events.contracts import RegistrationReleased
from eligibility.service.ports import EligibilityUnitOfWork


async def release_left_empty(uow: EligibilityUnitOfWork, registration_id: uuid.UUID) -> bool:
    """Inside the consumer's unit of work. False when the registration is already gone."""
    registration = await uow.registrations.get(registration_id, for_update=True)
    if registration is None:
        return False
    await uow.registrations.delete(registration.id)
    await uow.publish(RegistrationReleased(registration_id=registration.id, passport_id=registration.passport_id), key=str(registration.id))
    return True
