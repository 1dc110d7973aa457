"""E9: registrations saved long ago with no active subject are released."""

from __future__ import annotations

from datetime import timedelta

from cet_shared.clock import Clock
from cet_shared.events.contracts import RegistrationReleased
from eligibility.service.ports import EligibilityUnitOfWork


async def release_empty_registrations(uow: EligibilityUnitOfWork, clock: Clock, *, lifetime: timedelta, batch_size: int) -> int:
    """A registration saved longer ago than the lifetime with no active subject is deleted and
    its binding released (RegistrationReleased).

    Race with enrolment: the subject consumer takes the registration's row lock before it records
    a subject; here the rows are locked (SKIP LOCKED: a row being updated is looked at next round)
    and active subjects counted again after the lock, in a fresh statement that sees every subject
    committed before we got the lock. Enrolment, on RegistrationReleased, cancels what is still
    unpaid and refuses new subjects; a payment arriving later is refunded (Y4)."""
    cutoff = clock.now() - lifetime
    released = 0
    async with uow:
        for registration in await uow.registrations.empty_saved_before(cutoff, limit=batch_size):
            if await uow.registrations.has_active_subjects(registration.id):
                continue
            await uow.registrations.delete(registration.id)
            await uow.publish(RegistrationReleased(registration_id=registration.id, passport_id=registration.passport_id), key=str(registration.id))
            released += 1
        await uow.commit()
    return released
