"""The candidate's seat-taking clicks (N9, N11) and the N14 decision, in the fast unit tier: the
use cases of `service.enrol` run on an in-memory HoldStore that counts seats as `take_seats()`
does and refuses a hold on a changed context as `hold_seats()` does — no PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from cet_shared.clock import ManualClock
from cet_shared.problems import Problem
from enrolment.domain.context import CandidateContext, Offering
from enrolment.domain.seats import freed_seat_goes_to
from enrolment.service.enrol import enrol_oral, enrol_written
from enrolment.service.full_campuses import FullCampuses
from enrolment.service.seats import ContextChanged, Hold, SeatsGone

from .conftest import NOW, context, offering

LIFETIME = timedelta(hours=24)


@dataclass
class FakeHoldStore:
    """One candidate's world in memory. `changes` contexts are served before the current one,
    each with a stale fingerprint, as if another click of theirs committed in between."""

    offerings: dict[uuid.UUID, Offering]
    current: CandidateContext | None
    changes: list[CandidateContext] = field(default_factory=list)
    reads: int = 0
    held: list[Hold] = field(default_factory=list)

    async def offering(self, offering_id: uuid.UUID) -> Offering | None:
        return self.offerings.get(offering_id)

    async def oral_choice(self, offering_id: uuid.UUID, passport_id: str) -> tuple[Offering | None, CandidateContext | None]:
        found = await self.offering(offering_id)
        if found is None or found.remaining == 0:  # as the database's one read: a full campus reads no candidate
            return found, None
        return found, await self.context(passport_id)

    async def campus_offerings(self, exam_session_id: uuid.UUID, campus_code: str, subject_codes: Sequence[str]) -> dict[str, Offering]:
        return {o.subject_code: o for o in self.offerings.values() if o.campus_code == campus_code and o.subject_code in subject_codes}

    async def context(self, passport_id: str) -> CandidateContext | None:
        self.reads += 1
        return self.changes.pop(0) if self.changes else self.current

    async def hold(self, context: CandidateContext, holds: Sequence[Hold]) -> None:
        assert self.current is not None
        if context.fingerprint != self.current.fingerprint:
            raise ContextChanged
        wanted = [h.offering for h in holds if h.offering.limited]
        if any((self.offerings[o.id].remaining or 0) < 1 for o in wanted):
            raise SeatsGone  # all or nothing
        for o in wanted:
            self.offerings[o.id] = replace(self.offerings[o.id], remaining=(self.offerings[o.id].remaining or 0) - 1)
        self.held.extend(holds)


def _stores(store: FakeHoldStore):
    @asynccontextmanager
    async def open_store() -> AsyncIterator[FakeHoldStore]:
        yield store

    return open_store


def _code(error: pytest.ExceptionInfo[Problem]) -> str:
    return error.value.code


async def test_n9_n11_a_click_holds_one_seat_and_the_hold_expires_a_lifetime_later() -> None:
    f = offering(remaining=2, capacity=2)
    store = FakeHoldStore({f.id: f}, context())
    enrolment_id = await enrol_oral(_stores(store), FullCampuses(), ManualClock(NOW), LIFETIME, "p", f.id)
    [hold] = store.held
    assert hold.enrolment_id == enrolment_id and hold.expires_at == NOW + LIFETIME
    assert store.offerings[f.id].remaining == 1


async def test_n11_a_full_campus_is_refused_before_the_candidate_is_even_read() -> None:
    f = offering(remaining=0, capacity=2)
    store = FakeHoldStore({f.id: f}, context())
    with pytest.raises(Problem) as error:
        await enrol_oral(_stores(store), FullCampuses(), ManualClock(NOW), LIFETIME, "p", f.id)
    assert _code(error) == "seats_full" and store.reads == 0 and store.held == []


async def test_n11_the_last_seat_taken_between_read_and_hold_is_seats_full() -> None:
    seen = offering(remaining=1, capacity=2)

    class Racing(FakeHoldStore):
        async def offering(self, offering_id: uuid.UUID) -> Offering | None:
            self.offerings[offering_id] = replace(seen, remaining=0)  # another replica took it just after our read
            return seen

    racing = Racing({seen.id: seen}, context())
    with pytest.raises(Problem) as error:
        await enrol_oral(_stores(racing), FullCampuses(), ManualClock(NOW), LIFETIME, "p", seen.id)
    assert _code(error) == "seats_full" and racing.held == []


async def test_n9_a_changed_context_is_read_and_checked_again() -> None:
    """Another click of the candidate's own held an F meanwhile: the retry sees it (already_enrolled)."""
    f = offering()
    stale = context(fingerprint="old")
    now_holding = replace(stale, fingerprint="new", active=(*stale.active, *context(active=("F",)).active))
    store = FakeHoldStore({f.id: f}, now_holding, changes=[stale])
    with pytest.raises(Problem) as error:
        await enrol_oral(_stores(store), FullCampuses(), ManualClock(NOW), LIFETIME, "p", f.id)
    assert _code(error) == "already_enrolled" and store.reads == 2 and store.held == []


async def test_a_context_that_keeps_changing_ends_in_a_conflict_not_a_loop() -> None:
    f = offering()
    current = context(fingerprint="current")
    store = FakeHoldStore({f.id: f}, current, changes=[replace(current, fingerprint=str(i)) for i in range(3)])
    with pytest.raises(Problem) as error:
        await enrol_oral(_stores(store), FullCampuses(), ManualClock(NOW), LIFETIME, "p", f.id)
    assert _code(error) == "conflict" and store.reads == 3


async def test_n10_n9_every_refusal_of_a_click_before_any_seat_moves() -> None:
    other_session = offering(exam_session_id=uuid.uuid4())
    not_oral = offering(subject_code="1", capacity=None, remaining=None)
    elsewhere = offering(province_code="11", school_code="11101", campus_code="111010")
    store = FakeHoldStore({o.id: o for o in (other_session, not_oral, elsewhere)}, context())
    codes = []
    for target in (other_session, not_oral, elsewhere):
        with pytest.raises(Problem) as error:
            await enrol_oral(_stores(store), FullCampuses(), ManualClock(NOW), LIFETIME, "p", target.id)
        codes.append(_code(error))
    assert codes == ["offering_not_found", "offering_not_found", "campus_not_available"] and store.held == []


async def test_n4_n5_n7_written_subjects_are_all_or_nothing() -> None:
    english = offering(subject_code="1", capacity=None, remaining=None, campus_code="993010", school_code="99301")
    japanese = offering(subject_code="3", capacity=1, remaining=0, campus_code="993010", school_code="99301")
    store = FakeHoldStore({english.id: english, japanese.id: japanese}, context(active=()))
    with pytest.raises(Problem) as error:
        await enrol_written(_stores(store), ManualClock(NOW), LIFETIME, "p", ["1", "3"])
    assert _code(error) == "one_per_level" and store.held == []  # 1 and 3 are both level 4
    with pytest.raises(Problem) as error:
        await enrol_written(_stores(store), ManualClock(NOW), LIFETIME, "p", ["4", "3"])
    assert _code(error) == "not_offered" and store.held == []
    ids = await enrol_written(_stores(store), ManualClock(NOW), LIFETIME, "p", ["1", "1"])
    assert len(ids) == 1 and [h.offering.subject_code for h in store.held] == ["1"]


def test_n14_a_freed_seat_goes_to_the_line_while_the_campus_takes_enrolments() -> None:
    assert freed_seat_goes_to(offering(), NOW) == "waiting_list"
    assert freed_seat_goes_to(offering(closes_at=NOW), NOW) == "pool"
    assert freed_seat_goes_to(offering(closes_at=None), NOW) == "waiting_list"
    assert freed_seat_goes_to(offering(capacity=None, remaining=None), NOW) == "nowhere"


async def test_n11_a_remembered_full_campus_is_refused_without_any_read_and_forgotten_when_a_seat_is_back() -> None:
    f = offering(remaining=0, capacity=2)
    store = FakeHoldStore({f.id: f}, context())
    full = FullCampuses()
    full.listening_started()
    for _ in range(3):
        with pytest.raises(Problem) as error:
            await enrol_oral(_stores(store), full, ManualClock(NOW), LIFETIME, "p", f.id)
        assert _code(error) == "seats_full"
    assert store.reads == 0 and full.is_full(f.id)  # the first click read the offering only; the others nothing
    full.seat_back(f.id)
    store.offerings[f.id] = replace(f, remaining=1)
    assert await enrol_oral(_stores(store), full, ManualClock(NOW), LIFETIME, "p", f.id)


def test_n11_a_full_seen_before_a_seat_came_back_is_not_remembered() -> None:
    """The read saw 0, a seat came back (notification) before the answer: remembering that read
    would hide the seat, so the generation taken before the read refuses to."""
    full = FullCampuses()
    f = offering(remaining=0)
    assert not full.is_full(f.id)
    full.listening_started()
    before_read = full.generation()
    full.seat_back(f.id)
    full.saw_full(f.id, before_read)
    assert not full.is_full(f.id)
    full.saw_full(f.id, full.generation())
    assert full.is_full(f.id)
    full.listening_lost()  # no listener, no memory: every click asks the database
    assert not full.is_full(f.id)
    full.saw_full(f.id, full.generation())
    assert not full.is_full(f.id)
