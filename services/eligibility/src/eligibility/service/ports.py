"""What the use cases need from storage, as small protocols: db/ implements them on PostgreSQL,
tests/unit/fakes.py in memory. A use case enters the unit of work, reads and changes through its
repositories, publishes events, and commits: all of it or nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from cet_shared.audit import AuditTrail
from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock
from cet_shared.events.envelope import Event
from cet_shared.ratelimit import RateLimit
from eligibility.domain.csv_rows import RowError
from eligibility.domain.import_jobs import ImportJob, ImportKind
from eligibility.domain.model import Candidate, ExamSession, FoundRegistration, Rebinding, Registration, Review
from eligibility.domain.review import ReviewStatus, ScoreRecord


class BindingTaken(Exception):
    """E7: the database's guard refused a binding; `side` says which pair is taken."""

    def __init__(self, side: str) -> None:  # "candidate" | "account"
        super().__init__(side)
        self.side = side


class ReviewExists(Exception):
    """E10: the account already has an application."""


class Agreements(Protocol):
    async def accepted(self, passport_id: str, version: str) -> bool: ...
    async def accept(self, passport_id: str, version: str, at: datetime) -> None: ...


class Registry(Protocol):
    async def find(self, *, id_type: str, id_number: str, name: str | None) -> Candidate | None: ...
    async def by_id(self, student_id: uuid.UUID) -> Candidate | None: ...
    async def score(self, ticket_number: str) -> ScoreRecord | None: ...
    async def add_grants(self, student_id: uuid.UUID, subject_codes: list[str], *, reason: str, at: datetime) -> None: ...


class ExamSessions(Protocol):
    async def all(self) -> list[ExamSession]: ...


class Registrations(Protocol):
    async def bound(self, exam_session_id: uuid.UUID, passport_id: str) -> Registration | None: ...
    async def get(self, registration_id: uuid.UUID, *, for_update: bool = False) -> Registration | None: ...
    async def add(self, registration: Registration) -> None:
        """Raises BindingTaken when either unique pair of the session is taken (E7)."""

    async def of_student(self, student_id: uuid.UUID) -> list[Registration]:
        """Locked for update: a grant and a save of the same student serialise."""

    async def set_subjects(self, registration_id: uuid.UUID, subject_codes: list[str]) -> None: ...
    async def move(self, registration_id: uuid.UUID, passport_id: str) -> None:
        """Raises BindingTaken("account") when the target account is bound in that session."""

    async def latest_passport_of(self, student_id: uuid.UUID) -> str | None: ...
    async def latest_email_of(self, student_id: uuid.UUID) -> str | None: ...
    async def by_identity(self, *, id_type: str, id_number: str) -> list[FoundRegistration]: ...
    async def delete(self, registration_id: uuid.UUID) -> None: ...
    async def record_rebinding(self, rebinding: Rebinding) -> None: ...


class Reviews(Protocol):
    async def of_account(self, passport_id: str, *, for_update: bool = False) -> Review | None: ...
    async def unclaimed_of(self, student_id: uuid.UUID) -> Review | None:
        """A teacher's application for a student no account claimed yet; locked for update."""

    async def in_school(self, review_id: uuid.UUID, school_code: str) -> Review | None:
        """Locked for update."""

    async def list_school(self, school_code: str, status: ReviewStatus | None) -> list[Review]: ...
    async def add(self, review: Review) -> None:
        """Raises ReviewExists when the account has one already."""

    async def save(self, review: Review) -> None: ...
    async def delete(self, review_id: uuid.UUID) -> None: ...
    async def claim(self, student_id: uuid.UUID, passport_id: str) -> None:
        """A teacher's application made before the candidate had an account joins it, unless
        the account has an application of its own."""

    async def move(self, *, student_id: uuid.UUID, old_passport_id: str, new_passport_id: str) -> None: ...


class Throttles(Protocol):
    async def consume(self, limit: RateLimit, subject: str, *, clock: Clock) -> None: ...
    async def verify_captcha(self, seal: CaptchaSeal, token: str, answer: str, *, clock: Clock) -> None: ...


class ImportJobs(Protocol):
    """Registry and score import jobs (E13, E10). Unlike the repositories, each call is its own
    transaction (or several): a file of millions of rows is staged and merged a batch at a time."""

    async def receive(self, kind: ImportKind, chunks: AsyncIterable[bytes], *, scope: str, max_bytes: int, now: datetime) -> tuple[ImportJob, bool]: ...
    async def forget_abandoned(self, *, started_before: datetime) -> int: ...
    async def claim(self, *, now: datetime, lease: timedelta, only: uuid.UUID | None = None) -> tuple[ImportJob, uuid.UUID] | None: ...
    async def step(self, job_id: uuid.UUID, token: uuid.UUID, *, now: datetime, lease: timedelta, check_batch: int, merge_batch: int) -> ImportJob | None: ...
    async def get(self, job_id: uuid.UUID) -> ImportJob | None: ...
    async def recent(self, *, scope: str | None, limit: int) -> list[ImportJob]: ...
    async def errors(self, job_id: uuid.UUID, *, limit: int | None = None) -> list[RowError]: ...
    def error_rows(self, job_id: uuid.UUID) -> AsyncIterator[Sequence[Any]]: ...


class EligibilityUnitOfWork(Protocol):
    """Enter it (`async with uow:`) for one transaction; it can be entered again afterwards."""

    audit: AuditTrail
    agreements: Agreements
    registry: Registry
    exam_sessions: ExamSessions
    registrations: Registrations
    reviews: Reviews
    throttles: Throttles
    imports: ImportJobs  # usable outside `async with`: its transactions are its own

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None: ...
    async def publish(self, event: Event, *, key: str) -> None: ...
    async def commit(self) -> None: ...
