"""The registry on PostgreSQL: students with their school and campus, CET4 scores, qualification
grants, and the bulk upserts of an import (E13, E10)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from eligibility.db.tables import campuses, cet4_scores, provinces, qualification_grants, schools, students
from eligibility.domain.codes import sort_subjects
from eligibility.domain.imports import ScoreRow, StudentRow
from eligibility.domain.model import Candidate, Student
from eligibility.domain.review import ScoreRecord

CHUNK = 1000  # rows per INSERT: asyncpg allows 32767 parameters per statement
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

    async def school_province(self, school_code: str) -> str | None:
        province: str | None = await self.session.scalar(select(schools.c.province_code).where(schools.c.code == school_code))
        return province

    async def identities_elsewhere(self, identities: list[tuple[str, str]], *, school_code: str) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for start in range(0, len(identities), CHUNK):
            rows = await self.session.execute(
                select(students.c.id_type, students.c.id_number).where(
                    tuple_(students.c.id_type, students.c.id_number).in_(identities[start : start + CHUNK]), students.c.school_code != school_code
                )
            )
            found.update((row.id_type, row.id_number) for row in rows)
        return found

    async def upsert_students(self, rows: list[StudentRow], *, at: datetime) -> int:
        """Provinces, schools and campuses first; names left empty in a file do not erase names
        already known. Returns how many students are new."""
        session = self.session
        p = insert(provinces).values([{"code": c, "name": n} for c, n in {r.province_code: r.province_name for r in rows}.items()])
        await session.execute(
            p.on_conflict_do_update(index_elements=["code"], set_={"name": func.coalesce(func.nullif(p.excluded.name, ""), provinces.c.name)})
        )
        school_rows = {r.school_code: (r.province_code, r.school_name) for r in rows}
        s = insert(schools).values([{"code": c, "province_code": pc, "name": n} for c, (pc, n) in school_rows.items()])
        await session.execute(
            s.on_conflict_do_update(
                index_elements=["code"],
                set_={"province_code": s.excluded.province_code, "name": func.coalesce(func.nullif(s.excluded.name, ""), schools.c.name)},
            )
        )
        campus_rows = {r.campus_code: (r.school_code, r.campus_name, r.campus_offers_cet6) for r in rows}
        c = insert(campuses).values([{"code": k, "school_code": sc, "name": n, "offers_cet6": o} for k, (sc, n, o) in campus_rows.items()])
        await session.execute(
            c.on_conflict_do_update(
                index_elements=["code"],
                set_={
                    "school_code": c.excluded.school_code,
                    "name": func.coalesce(func.nullif(c.excluded.name, ""), campuses.c.name),
                    "offers_cet6": c.excluded.offers_cet6,
                },
            )
        )
        updatable = [col.name for col in students.columns if col.name not in ("id", "id_type", "id_number")]
        created = 0
        for start in range(0, len(rows), CHUNK):
            values = [
                {"id": uuid.uuid4(), "updated_at": at, **{name: getattr(r, name) for name in STUDENT_FIELDS if name != "id"}}
                for r in rows[start : start + CHUNK]
            ]
            statement = insert(students).values(values)
            upsert: Any = statement.on_conflict_do_update(
                constraint="students_identity", set_={name: statement.excluded[name] for name in updatable}
            ).returning(literal_column("xmax = 0").label("inserted"))
            created += sum(1 for inserted in (await session.execute(upsert)).scalars() if inserted)
        return created

    async def upsert_scores(self, rows: list[ScoreRow]) -> int:
        """A ticket number imported again is updated. Returns how many records are new."""
        created = 0
        fields = ("id_number", "name", "score", "year", "half")
        for start in range(0, len(rows), CHUNK):
            values = [{"ticket_number": r.ticket_number, **{k: getattr(r, k) for k in fields}} for r in rows[start : start + CHUNK]]
            statement = insert(cet4_scores).values(values)
            upsert: Any = statement.on_conflict_do_update(index_elements=["ticket_number"], set_={k: statement.excluded[k] for k in fields}).returning(
                literal_column("xmax = 0").label("inserted")
            )
            created += sum(1 for inserted in (await self.session.execute(upsert)).scalars() if inserted)
        return created
