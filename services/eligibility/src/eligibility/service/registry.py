"""Reading the registry (E3, E4) and importing it (E13) and CET4 scores (E10)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared import audit
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
from eligibility.bootstrap import Eligibility
from eligibility.db.tables import campuses, cet4_scores, provinces, qualification_grants, schools, students
from eligibility.domain.codes import SUBJECT_NAMES, coded_label, sort_subjects, subjects_text
from eligibility.domain.imports import Parsed, RowError, parse_scores, parse_students
from eligibility.domain.review import review_button_shown

_CHUNK = 1000  # rows per INSERT: asyncpg allows 32767 parameters per statement


def no_record() -> Problem:
    return Problem(404, "no_record", "未查询到您的学籍资格信息，请核对证件类型、证件号码和姓名，或联系学校相关负责老师")


@dataclass(frozen=True)
class Candidate:
    """A student of the registry with the names of their school and campus."""

    row: Any
    school_name: str
    campus_name: str
    province_code: str
    campus_offers_cet6: bool
    qualification_subjects: list[str]  # the registry's plus what an approved CET6 review granted

    @property
    def id(self) -> uuid.UUID:
        return self.row.id


async def find_candidate(session: AsyncSession, *, id_type: IdType | str, id_number: str, name: str | None) -> Candidate | None:
    """E3: ID type, ID number and (when given) name must all match."""
    query = (
        select(
            students,
            schools.c.name.label("school_name"),
            schools.c.province_code,
            campuses.c.name.label("campus_name"),
            campuses.c.offers_cet6,
        )
        .join(schools, schools.c.code == students.c.school_code)
        .join(campuses, campuses.c.code == students.c.campus_code)
        .where(students.c.id_type == str(id_type), students.c.id_number == id_number.strip().upper())
    )
    row = (await session.execute(query)).first()
    if row is None or (name is not None and row.name != name.strip()):
        return None
    return await _candidate(session, row)


async def candidate_by_id(session: AsyncSession, student_id: uuid.UUID) -> Candidate | None:
    query = (
        select(students, schools.c.name.label("school_name"), schools.c.province_code, campuses.c.name.label("campus_name"), campuses.c.offers_cet6)
        .join(schools, schools.c.code == students.c.school_code)
        .join(campuses, campuses.c.code == students.c.campus_code)
        .where(students.c.id == student_id)
    )
    row = (await session.execute(query)).first()
    return None if row is None else await _candidate(session, row)


async def _candidate(session: AsyncSession, row: Any) -> Candidate:
    granted = (await session.execute(select(qualification_grants.c.subject_code).where(qualification_grants.c.student_id == row.id))).scalars().all()
    return Candidate(
        row=row,
        school_name=row.school_name,
        campus_name=row.campus_name,
        province_code=row.province_code,
        campus_offers_cet6=row.offers_cet6,
        qualification_subjects=sort_subjects(set(row.qualification_subjects) | set(granted)),
    )


def snapshot_of(candidate: Candidate) -> dict[str, Any]:
    """E6: everything the confirmation page showed, frozen at saving."""
    r = candidate.row
    return {
        "name": r.name,
        "gender": r.gender,
        "id_type": r.id_type,
        "id_number": r.id_number,
        "province_code": candidate.province_code,
        "school_code": r.school_code,
        "school_name": candidate.school_name,
        "campus_code": r.campus_code,
        "campus_name": candidate.campus_name,
        "campus_offers_cet6": candidate.campus_offers_cet6,
        "education_level": r.education_level,
        "program_years": r.program_years,
        "entry_year": r.entry_year,
        "grade": r.grade,
        "department": r.department,
        "major": r.major,
        "class_name": r.class_name,
        "student_number": r.student_number,
        "remarks": r.remarks,
        "qualification_subjects": candidate.qualification_subjects,
        "cet6_barred": r.cet6_barred,
    }


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
    return Problem(
        422, "import_invalid", "导入文件有错误，未导入任何数据，请按错误列表修改后重新导入", errors=[e.as_dict() for e in errors]
    )


def _refuse_if_errors(parsed: Parsed) -> None:
    if parsed.errors:
        raise import_invalid(parsed.errors)


async def import_students(ctx: Eligibility, text: str, *, school_scope: str | None) -> ImportResult:
    """E13: all rows or none. Re-importing updates students; saved registrations keep their
    snapshot (E6) because they never read the registry again."""
    parsed = parse_students(text, school_scope=school_scope)
    _refuse_if_errors(parsed)
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        # Names left empty in a file do not erase names already known.
        province_rows = {r.province_code: r.province_name for r in parsed.rows}
        school_rows = {r.school_code: (r.province_code, r.school_name) for r in parsed.rows}
        campus_rows = {r.campus_code: (r.school_code, r.campus_name, r.campus_offers_cet6) for r in parsed.rows}
        p = insert(provinces).values([{"code": c, "name": n} for c, n in province_rows.items()])
        await session.execute(p.on_conflict_do_update(index_elements=["code"], set_={"name": func.coalesce(func.nullif(p.excluded.name, ""), provinces.c.name)}))
        if school_scope is not None:
            # A teacher's file may name only their own school, which must already be known to
            # sit in that province; a teacher cannot move a school.
            existing = await session.scalar(select(schools.c.province_code).where(schools.c.code == school_scope))
            if existing is not None and any(r.province_code != existing for r in parsed.rows):
                raise import_invalid([RowError(r.row, "province_code", "与本校已登记的省份不一致") for r in parsed.rows if r.province_code != existing])
            # Nor take over another school's students by importing their ID numbers.
            others: set[tuple[str, str]] = set()
            for start in range(0, len(parsed.rows), _CHUNK):
                keys = [(r.id_type, r.id_number) for r in parsed.rows[start : start + _CHUNK]]
                found = await session.execute(
                    select(students.c.id_type, students.c.id_number)
                    .where(tuple_(students.c.id_type, students.c.id_number).in_(keys), students.c.school_code != school_scope)
                )
                others.update((row.id_type, row.id_number) for row in found)
            if others:
                raise import_invalid([RowError(r.row, "id_number", "该考生的学籍属于其他学校，请联系考试中心") for r in parsed.rows if (r.id_type, r.id_number) in others])
        s = insert(schools).values([{"code": c, "province_code": pc, "name": n} for c, (pc, n) in school_rows.items()])
        await session.execute(s.on_conflict_do_update(index_elements=["code"], set_={"province_code": s.excluded.province_code, "name": func.coalesce(func.nullif(s.excluded.name, ""), schools.c.name)}))
        c = insert(campuses).values([{"code": k, "school_code": sc, "name": n, "offers_cet6": o} for k, (sc, n, o) in campus_rows.items()])
        await session.execute(
            c.on_conflict_do_update(
                index_elements=["code"],
                set_={"school_code": c.excluded.school_code, "name": func.coalesce(func.nullif(c.excluded.name, ""), campuses.c.name), "offers_cet6": c.excluded.offers_cet6},
            )
        )
        created = 0
        for start in range(0, len(parsed.rows), _CHUNK):
            values = [
                {
                    "id": uuid.uuid4(), "id_type": r.id_type, "id_number": r.id_number, "name": r.name, "gender": r.gender,
                    "school_code": r.school_code, "campus_code": r.campus_code, "education_level": r.education_level,
                    "program_years": r.program_years, "entry_year": r.entry_year, "grade": r.grade, "department": r.department,
                    "major": r.major, "class_name": r.class_name, "student_number": r.student_number, "remarks": r.remarks,
                    "qualification_subjects": r.qualification_subjects, "cet6_barred": r.cet6_barred, "updated_at": now,
                }
                for r in parsed.rows[start : start + _CHUNK]
            ]
            statement = insert(students).values(values)
            updatable = [col.name for col in students.columns if col.name not in ("id", "id_type", "id_number")]
            statement = statement.on_conflict_do_update(
                constraint="students_identity", set_={name: statement.excluded[name] for name in updatable}
            ).returning(literal_column("xmax = 0").label("inserted"))
            inserted = (await session.execute(statement)).scalars().all()
            created += sum(1 for flag in inserted if flag)
        await audit.record(session, "registry.imported", ("registry", school_scope or "national"), after={"rows": len(parsed.rows), "created": created}, school=school_scope)
        await uow.commit()
    return ImportResult(rows=len(parsed.rows), created=created, updated=len(parsed.rows) - created)


async def import_scores(ctx: Eligibility, text: str) -> ImportResult:
    """CET4 written score records (E10): all rows or none; a ticket number imported again is updated."""
    parsed = parse_scores(text, current_year=ctx.clock.now().year)
    _refuse_if_errors(parsed)
    created = 0
    async with ctx.unit_of_work() as uow:
        for start in range(0, len(parsed.rows), _CHUNK):
            values = [
                {"ticket_number": r.ticket_number, "id_number": r.id_number, "name": r.name, "score": r.score, "year": r.year, "half": r.half}
                for r in parsed.rows[start : start + _CHUNK]
            ]
            statement = insert(cet4_scores).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["ticket_number"], set_={k: statement.excluded[k] for k in ("id_number", "name", "score", "year", "half")}
            ).returning(literal_column("xmax = 0").label("inserted"))
            created += sum(1 for flag in (await uow.session.execute(statement)).scalars().all() if flag)
        await audit.record(uow.session, "scores.imported", ("cet4_scores", "national"), after={"rows": len(parsed.rows), "created": created})
        await uow.commit()
    return ImportResult(rows=len(parsed.rows), created=created, updated=len(parsed.rows) - created)
