"""Reading the registry (E3, E4) and importing it (E13) and CET4 scores (E10)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cet_shared.clock import Clock
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
from eligibility.domain.codes import SUBJECT_NAMES, coded_label, sort_subjects, subjects_text
from eligibility.domain.import_jobs import ImportJob, ImportKind, ImportStatus
from eligibility.domain.model import Candidate
from eligibility.domain.review import review_button_shown
from eligibility.service.import_jobs import ImportPace, finish, import_invalid, receive_file
from eligibility.service.ports import EligibilityUnitOfWork, ImportJobs, Registry


def no_record() -> Problem:
    return Problem(404, "no_record", "未查询到您的学籍资格信息，请核对证件类型、证件号码和姓名，或联系学校相关负责老师")


async def find_candidate(registry: Registry, *, id_type: IdType | str, id_number: str, name: str | None) -> Candidate | None:
    """E3: ID type, ID number and (when given) name must all match, as typed by a person."""
    return await registry.find(id_type=str(id_type), id_number=id_number.strip().upper(), name=None if name is None else name.strip())


def confirmation_page(snapshot: dict[str, Any], qualification_subjects: list[str]) -> dict[str, Any]:
    """E4: the fields of 资格信息确认, labelled as the guide shows them."""
    return {
        "name": snapshot["name"],
        "gender": snapshot["gender"],
        "id_type": snapshot["id_type"],
        "id_type_label": IdType(snapshot["id_type"]).label,
        "id_number": snapshot["id_number"],
        "qualification_subjects": [{"code": c, "name": SUBJECT_NAMES[c]} for c in sort_subjects(qualification_subjects)],
        "qualification_subjects_text": subjects_text(qualification_subjects),
        "school_code": snapshot["school_code"],
        "school": coded_label(snapshot["school_code"], snapshot["school_name"]),
        "campus_code": snapshot["campus_code"],
        "campus": coded_label(snapshot["campus_code"], snapshot["campus_name"]),
        "education_level": snapshot["education_level"],
        "program_years": snapshot["program_years"],
        "entry_year": snapshot["entry_year"],
        "grade": snapshot["grade"],
        "department": snapshot["department"],
        "major": snapshot["major"],
        "class_name": snapshot["class_name"],
        "student_number": snapshot["student_number"],
        "remarks": snapshot["remarks"],
        "cet6_review_available": review_button_shown(
            campus_offers_cet6=snapshot["campus_offers_cet6"],
            cet6_barred=snapshot["cet6_barred"],
            qualification_subjects=qualification_subjects,
        ),
    }


# -- import --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    updated: int


async def result_of(jobs: ImportJobs, job: ImportJob) -> ImportResult:
    """A finished job as the synchronous import answers: its counts, or every row's error."""
    if job.status != ImportStatus.DONE:
        raise import_invalid(await jobs.errors(job.id))
    return ImportResult(rows=job.rows_merged, created=job.rows_created, updated=job.rows_merged - job.rows_created)


async def import_now(uow: EligibilityUnitOfWork, clock: Clock, kind: ImportKind, text: str, *, school_scope: str | None) -> ImportResult:
    """A file imported to the end here (the CLI, tests' fixtures): the import job's own path, so
    there is one way to import. All rows or none (E13)."""
    job, _ = await receive_file(uow.imports, clock, kind, _once(text.encode()), scope=school_scope, max_bytes=len(text.encode()) + 1)
    return await result_of(uow.imports, await finish(uow.imports, clock, job.id, ImportPace()))


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def import_students(uow: EligibilityUnitOfWork, clock: Clock, text: str, *, school_scope: str | None) -> ImportResult:
    """E13. Re-importing updates students; saved registrations keep their snapshot (E6) because
    they never read the registry again."""
    return await import_now(uow, clock, ImportKind.STUDENTS, text, school_scope=school_scope)


async def import_scores(uow: EligibilityUnitOfWork, clock: Clock, text: str) -> ImportResult:
    """CET4 written score records (E10); a ticket number imported again is updated."""
    return await import_now(uow, clock, ImportKind.SCORES, text, school_scope=None)
