"""What the enrolment rules read, as typed values: a candidate's context and an offering (no I/O).

Both come from one read each (`db.context`): the rules in Python and the database's re-check
under the registration's lock (`hold_seats_batch()`, migration sh01) see the same candidate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from enrolment.domain.subjects import SUBJECTS, Subject


@dataclass(frozen=True)
class Active:
    """An enrolment that counts: held (unpaid, inside its 24 h) or paid."""

    subject_code: str
    kind: str
    level: int

    @classmethod
    def of(cls, subject: Subject) -> Active:
        return cls(subject.code, subject.kind, subject.level)


@dataclass(frozen=True)
class OralSetting:
    """N10: the registry school's oral setting for this exam session."""

    allow_other_schools: bool
    allowed_campus_codes: tuple[str, ...] | None


@dataclass(frozen=True)
class CandidateContext:
    registration_id: uuid.UUID
    exam_session_id: uuid.UUID
    passport_id: str
    province_code: str
    school_code: str
    campus_code: str
    qualification_subjects: tuple[str, ...]
    notices_acknowledged_at: datetime | None
    released_at: datetime | None
    registration_opens_at: datetime
    registration_closes_at: datetime
    published_at: datetime | None
    oral_exam_dates: dict[str, str]
    oral_setting: OralSetting | None
    active: tuple[Active, ...]
    # The database's digest of everything above: a hold goes through only if it is unchanged.
    fingerprint: str

    def exam_date(self, subject_code: str) -> date | None:
        value = self.oral_exam_dates.get(subject_code)
        return date.fromisoformat(value) if value else None

    def with_active(self, subject: Subject) -> CandidateContext:
        """The context as it is once this subject is held too (several subjects in one unit)."""
        return replace(self, active=(*self.active, Active.of(subject)))


def active_from_codes(codes: list[str] | tuple[str, ...]) -> tuple[Active, ...]:
    return tuple(Active.of(SUBJECTS[code]) for code in codes)


@dataclass(frozen=True)
class Offering:
    """N2/N10/N11: a campus offering a subject, its fee, capacity and registration time."""

    id: uuid.UUID
    exam_session_id: uuid.UUID
    subject_code: str
    province_code: str
    school_code: str
    school_name: str
    campus_code: str
    campus_name: str
    fee_fen: int | None
    capacity: int | None
    remaining: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    accepts_other_schools: bool

    @property
    def subject(self) -> Subject:
        return SUBJECTS[self.subject_code]

    @property
    def limited(self) -> bool:
        return self.capacity is not None
