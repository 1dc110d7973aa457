"""The candidate's clicks that take seats: 笔试报考 (N3–N5, N7) and 口试报考 (N9–N11), the sign-up
peak's hot path.

A click reads the offering(s) and the candidate's context (typed; the oral click both in one read), runs every rule
in Python and then holds: the click's entry in its campus's batch, one `hold_seats_batch()`
statement that is its own transaction (`service.seats`, `db.hold_batches`). A full (red 无) campus is answered before anything is locked. When the
candidate's own state changed between the read and the lock (another click of theirs, a cancel,
an expiry), the click reads and checks again, a few times at most."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Protocol

from cet_shared.clock import Clock
from cet_shared.problems import Problem
from enrolment.domain.context import CandidateContext, Offering
from enrolment.domain.refusals import Refusal
from enrolment.domain.rules import check_can_enrol, check_oral_hold, check_written, check_written_offering
from enrolment.domain.seats import seats_full
from enrolment.domain.subjects import subject
from enrolment.service.full_campuses import FullCampuses
from enrolment.service.problems import offering_not_found, problem, refusals_as_problems, registration_not_found
from enrolment.service.seats import ContextChanged, Hold, SeatsGone, new_holds

ATTEMPTS = 3


class HoldStore(Protocol):
    """What a click reads and writes (db.hold_store on PostgreSQL, a fake in the unit tier)."""

    async def oral_choice(self, offering_id: uuid.UUID, passport_id: str) -> tuple[Offering | None, CandidateContext | None]:
        """The offering and, unless it is full (remaining 0), the candidate's context: one read."""

    async def campus_offerings(self, exam_session_id: uuid.UUID, campus_code: str, subject_codes: Sequence[str]) -> dict[str, Offering]: ...

    async def context(self, passport_id: str) -> CandidateContext | None: ...

    async def hold(self, context: CandidateContext, holds: Sequence[Hold]) -> None:
        """All or nothing; raises SeatsGone or ContextChanged."""


HoldStores = Callable[[], AbstractAsyncContextManager[HoldStore]]


def _conflict() -> Problem:
    return Problem(409, "conflict", "操作冲突，请刷新后重试")


async def enrol_written(stores: HoldStores, clock: Clock, lifetime: timedelta, passport_id: str, subject_codes: list[str]) -> list[uuid.UUID]:
    """One batch of written subjects at the candidate's registry campus, all or nothing."""
    codes = list(dict.fromkeys(subject_codes))
    async with stores() as store:
        for _ in range(ATTEMPTS):
            now = clock.now()
            context = await store.context(passport_id)
            if context is None:
                raise registration_not_found()
            with refusals_as_problems():
                check_can_enrol(context, now)
                if context.notices_acknowledged_at is None:
                    raise Refusal("notices_not_acknowledged", "请先阅读报考须知及省通告")
                offered = await store.campus_offerings(context.exam_session_id, context.campus_code, codes)
                chosen, running = [], context
                for code in codes:
                    written = subject(code)
                    if written is None or written.kind != "written":
                        raise Refusal("not_a_written_subject", "笔试科目不正确", 422)
                    check_written(written, running.qualification_subjects, running.active)
                    chosen.append(check_written_offering(written, offered.get(code), now))
                    running = running.with_active(written)
            holds = new_holds(chosen, now=now, expires_at=now + lifetime)
            if await _held(store, context, holds):
                return [hold.enrolment_id for hold in holds]
    raise _conflict()


async def enrol_oral(stores: HoldStores, full: FullCampuses, clock: Clock, lifetime: timedelta, passport_id: str, offering_id: uuid.UUID) -> uuid.UUID:
    if full.is_full(offering_id):
        raise problem(seats_full())  # the peak's commonest answer, from memory (service.full_campuses)
    async with stores() as store:
        for _ in range(ATTEMPTS):
            now = clock.now()
            generation = full.generation()
            offering, context = await store.oral_choice(offering_id, passport_id)
            if offering is None or offering.subject.kind != "oral":
                raise offering_not_found()
            if offering.remaining == 0:
                # The peak's common answer, before the candidate is even read: a red 无 campus
                # cannot be chosen whatever else is true (N11).
                full.saw_full(offering.id, generation)
                raise problem(seats_full())
            if context is None:
                raise registration_not_found()
            if offering.exam_session_id != context.exam_session_id:
                raise offering_not_found()
            with refusals_as_problems():
                check_oral_hold(context, offering, now)
            [hold] = new_holds([offering], now=now, expires_at=now + lifetime)
            try:
                if await _held(store, context, [hold]):
                    return hold.enrolment_id
            except Problem:
                full.saw_full(offering.id, generation)  # _held refuses only for seats_full
                raise
    raise _conflict()


async def _held(store: HoldStore, context: CandidateContext, holds: list[Hold]) -> bool:
    try:
        await store.hold(context, holds)
    except SeatsGone:
        raise problem(seats_full()) from None
    except ContextChanged:
        return False
    return True
