"""The registry on PostgreSQL: students with their school and campus, CET4 scores, qualification
grants. Imports write it in batches from staging (db/import_jobs.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from eligibility.db.tables import campuses, cet4_scores, qualification_grants, schools, students
from eligibility.domain.codes import sort_subjects
from eligibility.domain.model import Candidate, Student
from eligibility.domain.review import ScoreRecord

STUDENT_FIELDS = tuple(Student.__dataclass_fields__)


def _student(row: Any) -> Student:
    return Student(**{name: getattr(row, name) for name in STUDENT_FIELDS})


class SqlRegistry:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _candidate(self, *where: Any) -> Candidate | None:
        query = (
            select(students, schools.c.name.label("school_name"), schools.c.province_code, campuses.c.name.label("campus_name"), campuses.c.offers_cet6)
            .join(schools, schools.c.code == students.c.school_code)
            .join(campuses, campuses.c.code == students.c.campus_code)
            .where(*where)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        granted = (await self.session.execute(select(qualification_grants.c.subject_code).where(qualification_grants.c.student_id == row.id))).scalars()
        return Candidate(
            student=_student(row),
            school_name=row.school_name,
            campus_name=row.campus_name,
            province_code=row.province_code,
            campus_offers_cet6=row.offers_cet6,
            qualification_subjects=sort_subjects(set(row.qualification_subjects) | set(granted)),
        )

    async def find(self, *, id_type: str, id_number: str, name: str | None) -> Candidate | None:
        candidate = await self._candidate(students.c.id_type == id_type, students.c.id_number == id_number)
        if candidate is None or (name is not None and candidate.student.name != name):
            return None
        return candidate

    async def by_id(self, student_id: uuid.UUID) -> Candidate | None:
        return await self._candidate(students.c.id == student_id)

    async def score(self, ticket_number: str) -> ScoreRecord | None:
        row = (await self.session.execute(select(cet4_scores).where(cet4_scores.c.ticket_number == ticket_number))).first()
        return None if row is None else ScoreRecord(row.ticket_number, row.id_number, row.name, row.score, row.year)

    async def add_grants(self, student_id: uuid.UUID, subject_codes: list[str], *, reason: str, at: datetime) -> None:
        await self.session.execute(
            insert(qualification_grants)
            .values([{"student_id": student_id, "subject_code": code, "reason": reason, "granted_at": at} for code in subject_codes])
            .on_conflict_do_nothing()
        )
