"""The one read of a candidate's context and of offerings, into `domain.context` dataclasses.

`candidate_context()` (migration 0006) is the only query of a candidate's context: the api's
sign-up path runs it on a plain asyncpg connection, the other use cases in their unit of work,
and `hold_seats_batch()` runs it again under the registration's lock to see that nothing changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enrolment.db.tables import offerings, registrations
from enrolment.domain.context import CandidateContext, Offering, OralSetting, active_from_codes

_OFFERING_COLUMNS = tuple(f.name for f in fields(Offering))
_CONTEXT = "SELECT * FROM candidate_context($1, $2)"
# S608: the column names are the dataclass fields above, never input.
# The offering and, unless it is full (red 无: nothing else matters), the candidate's context: one round trip.
_ORAL_CHOICE = f"""
SELECT {", ".join(f"o.{name} AS o_{name}" for name in _OFFERING_COLUMNS)}, c.*
FROM offerings o
LEFT JOIN LATERAL (SELECT * FROM candidate_context($2, NULL) WHERE o.remaining IS DISTINCT FROM 0) c ON true
WHERE o.id = $1
"""  # noqa: S608
_CAMPUS_OFFERINGS = f"""
SELECT {", ".join(_OFFERING_COLUMNS)} FROM offerings
WHERE exam_session_id = $1 AND campus_code = $2 AND subject_code = ANY($3::text[])
"""  # noqa: S608


def context_from_row(row: Mapping[str, Any]) -> CandidateContext:
    setting = None
    if row["allow_other_schools"] is not None:
        codes = row["allowed_campus_codes"]
        setting = OralSetting(bool(row["allow_other_schools"]), tuple(codes) if codes is not None else None)
    return CandidateContext(
        registration_id=row["registration_id"],
        exam_session_id=row["exam_session_id"],
        passport_id=row["passport_id"],
        province_code=row["province_code"],
        school_code=row["school_code"],
        campus_code=row["campus_code"],
        qualification_subjects=tuple(row["qualification_subjects"]),
        notices_acknowledged_at=row["notices_acknowledged_at"],
        released_at=row["released_at"],
        registration_opens_at=row["registration_opens_at"],
        registration_closes_at=row["registration_closes_at"],
        published_at=row["published_at"],
        oral_exam_dates=dict(row["oral_exam_dates"] or {}),
        oral_setting=setting,
        active=active_from_codes(row["active_codes"]),
        fingerprint=row["fingerprint"],
    )


def offering_from_row(row: Mapping[str, Any]) -> Offering:
    return Offering(**{name: row[name] for name in _OFFERING_COLUMNS})


# -- on a plain asyncpg connection (the sign-up path) ------------------------------------------


async def fetch_context(connection: asyncpg.Connection, passport_id: str) -> CandidateContext | None:
    row = await connection.fetchrow(_CONTEXT, passport_id, None)
    return context_from_row(row) if row is not None else None


async def fetch_oral_choice(connection: asyncpg.Connection, offering_id: uuid.UUID, passport_id: str) -> tuple[Offering | None, CandidateContext | None]:
    row = await connection.fetchrow(_ORAL_CHOICE, offering_id, passport_id)
    if row is None:
        return None, None
    offering = Offering(**{name: row[f"o_{name}"] for name in _OFFERING_COLUMNS})
    return offering, (context_from_row(row) if row["registration_id"] is not None else None)


async def fetch_campus_offerings(
    connection: asyncpg.Connection, exam_session_id: uuid.UUID, campus_code: str, subject_codes: Sequence[str]
) -> dict[str, Offering]:
    rows = await connection.fetch(_CAMPUS_OFFERINGS, exam_session_id, campus_code, list(subject_codes))
    return {row["subject_code"]: offering_from_row(row) for row in rows}


# -- in a unit of work (SQLAlchemy session) -------------------------------------------------------


async def load_context(
    session: AsyncSession, *, passport_id: str | None = None, registration_id: uuid.UUID | None = None, lock: bool = False
) -> CandidateContext | None:
    """By passport (the most recent registration) or by registration id. `lock` takes the
    registration's row lock first, so the context cannot change until the unit ends."""
    if lock:
        statement = select(registrations.c.registration_id).with_for_update()
        if registration_id is not None:
            statement = statement.where(registrations.c.registration_id == registration_id)
        else:
            statement = statement.where(registrations.c.passport_id == passport_id).order_by(registrations.c.bound_at.desc()).limit(1)
        registration_id = (await session.execute(statement)).scalar()
        if registration_id is None:
            return None
    row = (
        (
            await session.execute(
                text("SELECT * FROM candidate_context(:passport_id, :registration_id)"),
                {"passport_id": passport_id, "registration_id": registration_id},
            )
        )
        .mappings()
        .first()
    )
    return context_from_row(row) if row is not None else None


async def load_offering(session: AsyncSession, offering_id: uuid.UUID, *, lock: bool = False) -> Offering | None:
    statement = select(*(offerings.c[name] for name in _OFFERING_COLUMNS)).where(offerings.c.id == offering_id)
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).mappings().first()
    return offering_from_row(row) if row is not None else None


async def load_registration_row(session: AsyncSession, passport_id: str) -> dict[str, Any] | None:
    """The caller's registration row as the pages show it (the snapshot: name, id number…);
    the rules read `load_context`."""
    row = (
        (await session.execute(select(registrations).where(registrations.c.passport_id == passport_id).order_by(registrations.c.bound_at.desc()).limit(1)))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


async def province_offerings(session: AsyncSession, exam_session_id: uuid.UUID, subject_code: str, province_code: str) -> list[Offering]:
    """Every campus of the province offering the subject; N10 narrows them (`domain.rules`)."""
    rows = (
        (
            await session.execute(
                select(*(offerings.c[name] for name in _OFFERING_COLUMNS))
                .where(offerings.c.exam_session_id == exam_session_id, offerings.c.subject_code == subject_code, offerings.c.province_code == province_code)
                .order_by(offerings.c.school_code, offerings.c.campus_code)
            )
        )
        .mappings()
        .all()
    )
    return [offering_from_row(row) for row in rows]
