"""Eligibility's repositories in memory, for the unit tier (services/eligibility/tests/unit).

The fakes keep the guarantees the use cases rely on from the database — a transaction that is
all or nothing, the unique pairs of E7, one application per account — so a handler that forgot to
commit, or changed something before refusing, fails here as it would on PostgreSQL. Audit entries
live in the transaction's state like the rows."""

from __future__ import annotations

import copy
import csv
import io
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

from cet_shared.captcha import CaptchaSeal, captcha_wrong
from cet_shared.clock import Clock
from cet_shared.events.envelope import Event
from cet_shared.id_types import parse_id_type
from cet_shared.problems import too_many_requests
from cet_shared.ratelimit import RateLimit
from cet_shared.testing import AuditEntry, MemoryAuditTrail
from eligibility.domain.codes import parse_subjects, sort_subjects
from eligibility.domain.csv_rows import YES_WORDS
from eligibility.domain.model import Candidate, ExamSession, FoundRegistration, Rebinding, Registration, Review, Student
from eligibility.domain.review import ReviewStatus, ScoreRecord
from eligibility.service.ports import BindingTaken, ReviewExists


@dataclass
class State:
    """Everything the fake database holds; copied on entering a transaction, kept on commit."""

    agreements: set[tuple[str, str]] = field(default_factory=set)
    students: dict[tuple[str, str], Candidate] = field(default_factory=dict)
    grants: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    scores: dict[str, ScoreRecord] = field(default_factory=dict)
    sessions: list[ExamSession] = field(default_factory=list)
    registrations: dict[uuid.UUID, Registration] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    rebindings: list[Rebinding] = field(default_factory=list)
    reviews: dict[uuid.UUID, Review] = field(default_factory=dict)
    hits: dict[tuple[str, str, int], int] = field(default_factory=dict)
    spent_captchas: set[str] = field(default_factory=set)
    outbox: list[tuple[Event, str]] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)


class FakeAgreements:
    def __init__(self, state: State) -> None:
        self.state = state

    async def accepted(self, passport_id: str, version: str) -> bool:
        return (passport_id, version) in self.state.agreements

    async def accept(self, passport_id: str, version: str, at: datetime) -> None:
        self.state.agreements.add((passport_id, version))


class FakeRegistry:
    def __init__(self, state: State) -> None:
        self.state = state

    def _with_grants(self, candidate: Candidate) -> Candidate:
        granted = self.state.grants.get(candidate.id, set())
        return replace(candidate, qualification_subjects=sort_subjects(set(candidate.student.qualification_subjects) | granted))

    async def find(self, *, id_type: str, id_number: str, name: str | None) -> Candidate | None:
        candidate = self.state.students.get((id_type, id_number))
        if candidate is None or (name is not None and candidate.student.name != name):
            return None
        return self._with_grants(candidate)

    async def by_id(self, student_id: uuid.UUID) -> Candidate | None:
        found = [c for c in self.state.students.values() if c.id == student_id]
        return self._with_grants(found[0]) if found else None

    async def score(self, ticket_number: str) -> ScoreRecord | None:
        return self.state.scores.get(ticket_number)

    async def add_grants(self, student_id: uuid.UUID, subject_codes: list[str], *, reason: str, at: datetime) -> None:
        self.state.grants.setdefault(student_id, set()).update(subject_codes)


class FakeExamSessions:
    def __init__(self, state: State) -> None:
        self.state = state

    async def all(self) -> list[ExamSession]:
        return list(self.state.sessions)


class FakeRegistrations:
    def __init__(self, state: State) -> None:
        self.state = state

    async def bound(self, exam_session_id: uuid.UUID, passport_id: str) -> Registration | None:
        return next((r for r in self.state.registrations.values() if (r.exam_session_id, r.passport_id) == (exam_session_id, passport_id)), None)

    async def get(self, registration_id: uuid.UUID, *, for_update: bool = False) -> Registration | None:
        return self.state.registrations.get(registration_id)

    async def add(self, registration: Registration) -> None:
        for r in self.state.registrations.values():
            if r.exam_session_id == registration.exam_session_id and r.student_id == registration.student_id:
                raise BindingTaken("candidate")
            if r.exam_session_id == registration.exam_session_id and r.passport_id == registration.passport_id:
                raise BindingTaken("account")
        self.state.registrations[registration.id] = registration

    async def of_student(self, student_id: uuid.UUID) -> list[Registration]:
        return [r for r in self.state.registrations.values() if r.student_id == student_id]

    async def set_subjects(self, registration_id: uuid.UUID, subject_codes: list[str]) -> None:
        self.state.registrations[registration_id] = replace(self.state.registrations[registration_id], qualification_subjects=subject_codes)

    async def move(self, registration_id: uuid.UUID, passport_id: str) -> None:
        moving = self.state.registrations[registration_id]
        if await self.bound(moving.exam_session_id, passport_id) is not None:
            raise BindingTaken("account")
        self.state.registrations[registration_id] = replace(moving, passport_id=passport_id)

    async def latest_passport_of(self, student_id: uuid.UUID) -> str | None:
        mine = sorted(await self.of_student(student_id), key=lambda r: r.saved_at)
        return mine[-1].passport_id if mine else None

    async def latest_email_of(self, student_id: uuid.UUID) -> str | None:
        opens = {s.id: s.registration_opens_at for s in self.state.sessions}
        mine = sorted(await self.of_student(student_id), key=lambda r: (opens[r.exam_session_id], r.saved_at))
        emails = [self.state.emails[r.passport_id] for r in mine if r.passport_id in self.state.emails]
        return emails[-1] if emails else None

    async def by_identity(self, *, id_type: str, id_number: str) -> list[FoundRegistration]:
        names = {s.id: s.name for s in self.state.sessions}
        return [
            FoundRegistration(r, names[r.exam_session_id])
            for r in self.state.registrations.values()
            if (r.snapshot["id_type"], r.snapshot["id_number"]) == (id_type, id_number)
        ]

    async def delete(self, registration_id: uuid.UUID) -> None:
        del self.state.registrations[registration_id]

    async def record_rebinding(self, rebinding: Rebinding) -> None:
        self.state.rebindings.append(rebinding)


class FakeReviews:
    def __init__(self, state: State) -> None:
        self.state = state

    async def of_account(self, passport_id: str, *, for_update: bool = False) -> Review | None:
        return next((copy.copy(r) for r in self.state.reviews.values() if r.passport_id == passport_id), None)

    async def unclaimed_of(self, student_id: uuid.UUID) -> Review | None:
        return next((copy.copy(r) for r in self.state.reviews.values() if r.student_id == student_id and r.passport_id is None), None)

    async def in_school(self, review_id: uuid.UUID, school_code: str) -> Review | None:
        review = self.state.reviews.get(review_id)
        return copy.copy(review) if review is not None and review.school_code == school_code else None

    async def list_school(self, school_code: str, status: ReviewStatus | None) -> list[Review]:
        found = [r for r in self.state.reviews.values() if r.school_code == school_code and status in (None, r.status)]
        return sorted(found, key=lambda r: r.submitted_at)

    async def add(self, review: Review) -> None:
        if review.passport_id is not None and await self.of_account(review.passport_id) is not None:
            raise ReviewExists()
        self.state.reviews[review.id] = copy.copy(review)

    async def save(self, review: Review) -> None:
        self.state.reviews[review.id] = copy.copy(review)

    async def delete(self, review_id: uuid.UUID) -> None:
        del self.state.reviews[review_id]

    async def claim(self, student_id: uuid.UUID, passport_id: str) -> None:
        unclaimed = await self.unclaimed_of(student_id)
        if unclaimed is not None and await self.of_account(passport_id) is None:
            self.state.reviews[unclaimed.id] = replace(unclaimed, passport_id=passport_id)

    async def move(self, *, student_id: uuid.UUID, old_passport_id: str, new_passport_id: str) -> None:
        for r in list(self.state.reviews.values()):
            if (r.student_id, r.passport_id) == (student_id, old_passport_id):
                self.state.reviews[r.id] = replace(r, passport_id=new_passport_id)


class FakeThrottles:
    """Fixed windows as the real limits count them; a captcha token here is `ok:<answer>`."""

    def __init__(self, state: State, committed: State) -> None:
        self.state, self.committed = state, committed

    async def consume(self, limit: RateLimit, subject: str, *, clock: Clock) -> None:
        key = (limit.name, subject, int(clock.now().timestamp()) // int(limit.window.total_seconds()))
        self.state.hits[key] = self.state.hits.get(key, 0) + 1
        if self.state.hits[key] > limit.limit:
            raise too_many_requests(1)

    async def verify_captcha(self, seal: CaptchaSeal, token: str, answer: str, *, clock: Clock) -> None:
        if token in self.state.spent_captchas:
            raise captcha_wrong()
        # Spent even when the answer is wrong or the transaction rolls back (one guess per image).
        self.state.spent_captchas.add(token)
        self.committed.spent_captchas.add(token)
        if token != f"ok:{answer}":
            raise captcha_wrong()


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.committed = State()
        self.commits = 0

    async def __aenter__(self) -> Self:
        self.state = copy.deepcopy(self.committed)
        self.agreements = FakeAgreements(self.state)
        self.registry = FakeRegistry(self.state)
        self.exam_sessions = FakeExamSessions(self.state)
        self.registrations = FakeRegistrations(self.state)
        self.reviews = FakeReviews(self.state)
        self.throttles = FakeThrottles(self.state, self.committed)
        self.audit = MemoryAuditTrail(self.state.audit)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        del self.state  # whatever was not committed is gone

    async def publish(self, event: Event, *, key: str) -> None:
        self.state.outbox.append((event, key))

    async def commit(self) -> None:
        self.committed = copy.deepcopy(self.state)
        self.commits += 1

    def audited(self, kind: str | None = None) -> list[AuditEntry]:
        return [e for e in self.committed.audit if kind is None or e.kind == kind]

    def published(self, event_type: type[Event] | None = None) -> list[Event]:
        return [e for e, _ in self.committed.outbox if event_type is None or isinstance(e, event_type)]


def seed_registry(uow: FakeUnitOfWork, students_csv: str, scores_csv: str = "") -> None:
    """Trusted test files (the demo registry) straight into the fake's committed state: checking
    a file's rules is the import job's work, proven on PostgreSQL (tests/test_import_*.py)."""
    state = uow.committed
    for v in csv.DictReader(io.StringIO(students_csv)):
        id_type = parse_id_type(v["id_type"]).value
        student = Student(
            uuid.uuid4(), id_type, v["id_number"].upper(), v["name"], v["gender"], v["school_code"], v["campus_code"], v["education_level"],
            v["program_years"], v["entry_year"], v["grade"], v["department"], v["major"], v["class"], v["student_number"], v["remarks"],
            parse_subjects(v["qualification_subjects"]), v["cet6_barred"].lower() in YES_WORDS,
        )  # fmt: skip
        offers = v["campus_offers_cet6"].lower() in YES_WORDS
        state.students[(id_type, student.id_number)] = Candidate(
            student, v["school_name"], v["campus_name"], v["province_code"], offers, student.qualification_subjects
        )
    for v in csv.DictReader(io.StringIO(scores_csv)):
        state.scores[v["ticket_number"]] = ScoreRecord(v["ticket_number"], v["id_number"], v["name"], int(v["score"]), int(v["year"]))
