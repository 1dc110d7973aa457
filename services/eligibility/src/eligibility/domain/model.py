"""What eligibility's use cases pass around: the registry's students, exam session windows (E5,
E6), saved registrations and CET6 review applications (E10). Pure, typed, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from eligibility.domain.review import ReviewStatus


@dataclass(frozen=True)
class Student:
    """A row of the registry (E13)."""

    id: uuid.UUID
    id_type: str
    id_number: str
    name: str
    gender: str
    school_code: str
    campus_code: str
    education_level: str
    program_years: str
    entry_year: str
    grade: str
    department: str
    major: str
    class_name: str
    student_number: str
    remarks: str
    qualification_subjects: list[str]
    cet6_barred: bool


@dataclass(frozen=True)
class Candidate:
    """A student with the names of their school and campus."""

    student: Student
    school_name: str
    campus_name: str
    province_code: str
    campus_offers_cet6: bool
    qualification_subjects: list[str]  # the registry's plus what an approved CET6 review granted

    @property
    def id(self) -> uuid.UUID:
        return self.student.id


def snapshot_of(candidate: Candidate) -> dict[str, Any]:
    """E6: everything the confirmation page showed, frozen at saving."""
    s = candidate.student
    return {
        "name": s.name,
        "gender": s.gender,
        "id_type": s.id_type,
        "id_number": s.id_number,
        "province_code": candidate.province_code,
        "school_code": s.school_code,
        "school_name": candidate.school_name,
        "campus_code": s.campus_code,
        "campus_name": candidate.campus_name,
        "campus_offers_cet6": candidate.campus_offers_cet6,
        "education_level": s.education_level,
        "program_years": s.program_years,
        "entry_year": s.entry_year,
        "grade": s.grade,
        "department": s.department,
        "major": s.major,
        "class_name": s.class_name,
        "student_number": s.student_number,
        "remarks": s.remarks,
        "qualification_subjects": candidate.qualification_subjects,
        "cet6_barred": s.cet6_barred,
    }


# -- exam sessions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExamSession:
    id: uuid.UUID
    name: str
    registration_opens_at: datetime
    registration_closes_at: datetime


class WindowState(StrEnum):
    BEFORE = "before"  # E5: the confirmation page can be viewed, nothing is saved or bound
    OPEN = "open"  # E6: save and continue
    CLOSED = "closed"


@dataclass(frozen=True)
class SessionWindow:
    session: ExamSession
    state: WindowState

    @property
    def id(self) -> uuid.UUID:
        return self.session.id


def current_window(sessions: list[ExamSession], now: datetime) -> SessionWindow | None:
    """The session whose window is open; else the next to open; else the last one that closed."""
    ordered = sorted(sessions, key=lambda s: s.registration_opens_at)
    open_ = [s for s in ordered if s.registration_opens_at <= now < s.registration_closes_at]
    if open_:
        return SessionWindow(open_[-1], WindowState.OPEN)
    upcoming = [s for s in ordered if s.registration_opens_at > now]
    if upcoming:
        return SessionWindow(upcoming[0], WindowState.BEFORE)
    if ordered:
        return SessionWindow(max(ordered, key=lambda s: s.registration_closes_at), WindowState.CLOSED)
    return None


# -- registrations and reviews --------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """A saved registration (E6): the confirmed snapshot bound to one passport account."""

    id: uuid.UUID
    exam_session_id: uuid.UUID
    passport_id: str
    student_id: uuid.UUID
    snapshot: dict[str, Any]
    qualification_subjects: list[str]
    saved_at: datetime


@dataclass(frozen=True)
class FoundRegistration:
    """Support's search result (E12): a registration with its session's name."""

    registration: Registration
    session_name: str


@dataclass(frozen=True)
class Rebinding:
    """E12: one audited move of a registration to another account."""

    registration_id: uuid.UUID
    old_passport_id: str
    new_passport_id: str
    actor_passport_id: str
    reason: str
    rebound_at: datetime


@dataclass
class Review:
    """A CET6 review application (E10); one per passport account, none for a teacher's
    application on behalf of a candidate without a bound account."""

    id: uuid.UUID
    passport_id: str | None
    student_id: uuid.UUID
    school_code: str
    name: str
    id_type: str
    id_number: str
    ticket_number: str | None
    status: ReviewStatus
    rule: str  # rule1, rule2, teacher
    submitted_by: str
    submitted_at: datetime
    submissions: int = 1
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
