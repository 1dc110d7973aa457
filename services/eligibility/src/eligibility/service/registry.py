"""Reading the registry (E3, E4) and importing it (E13) and CET4 scores (E10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cet_shared.clock import Clock
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
from eligibility.domain.codes import SUBJECT_NAMES, coded_label, sort_subjects, subjects_text
from eligibility.domain.imports import Parsed, RowError, parse_scores, parse_students
from eligibility.domain.model import Candidate
from eligibility.domain.review import review_button_shown
from eligibility.service.ports import EligibilityUnitOfWork, Registry


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


def import_invalid(errors: list[RowError]) -> Problem:
    return Problem(422, "import_invalid", "导入文件有错误，未导入任何数据，请按错误列表修改后重新导入", errors=[e.as_dict() for e in errors])


def _refuse_if_errors(parsed: Parsed[Any]) -> None:
    if parsed.errors:
        raise import_invalid(parsed.errors)


async def import_students(uow: EligibilityUnitOfWork, clock: Clock, text: str, *, school_scope: str | None) -> ImportResult:
    """E13: all rows or none. Re-importing updates students; saved registrations keep their
    snapshot (E6) because they never read the registry again."""
    parsed = parse_students(text, school_scope=school_scope)
    _refuse_if_errors(parsed)
    async with uow:
        if school_scope is not None:
            # A teacher's file may name only their own school, which must already be known to
            # sit in that province; a teacher cannot move a school.
            province = await uow.registry.school_province(school_scope)
            if province is not None and any(r.province_code != province for r in parsed.rows):
                raise import_invalid([RowError(r.row, "province_code", "与本校已登记的省份不一致") for r in parsed.rows if r.province_code != province])
            # Nor take over another school's students by importing their ID numbers.
            others = await uow.registry.identities_elsewhere([(r.id_type, r.id_number) for r in parsed.rows], school_code=school_scope)
            if others:
                raise import_invalid(
                    [RowError(r.row, "id_number", "该考生的学籍属于其他学校，请联系考试中心") for r in parsed.rows if (r.id_type, r.id_number) in others]
                )
        created = await uow.registry.upsert_students(parsed.rows, at=clock.now())
        await uow.audit.record(
            "registry.imported", ("registry", school_scope or "national"), after={"rows": len(parsed.rows), "created": created}, school=school_scope
        )
        await uow.commit()
    return ImportResult(rows=len(parsed.rows), created=created, updated=len(parsed.rows) - created)


async def import_scores(uow: EligibilityUnitOfWork, clock: Clock, text: str) -> ImportResult:
    """CET4 written score records (E10): all rows or none; a ticket number imported again is updated."""
    parsed = parse_scores(text, current_year=clock.now().year)
    _refuse_if_errors(parsed)
    async with uow:
        created = await uow.registry.upsert_scores(parsed.rows)
        await uow.audit.record("scores.imported", ("cet4_scores", "national"), after={"rows": len(parsed.rows), "created": created})
        await uow.commit()
    return ImportResult(rows=len(parsed.rows), created=created, updated=len(parsed.rows) - created)
