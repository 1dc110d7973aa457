"""Agreements, exam sessions, registrations, reviews and throttles on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from eligibility.db.tables import (
    accounts,
    agreement_acceptances,
    cet6_reviews,
    exam_sessions,
    rebind_audit,
    registrations,
)
from eligibility.domain.model import ExamSession, FoundRegistration, Rebinding, Registration, Review
from eligibility.domain.review import ReviewStatus
from eligibility.service.ports import BindingTaken, ReviewExists

REVIEW_FIELDS = tuple(Review.__dataclass_fields__)


class SqlAgreements:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accepted(self, passport_id: str, version: str) -> bool:
        found = await self.session.scalar(
            select(agreement_acceptances.c.accepted_at).where(agreement_acceptances.c.passport_id == passport_id, agreement_acceptances.c.version == version)
        )
        return found is not None

    async def accept(self, passport_id: str, version: str, at: datetime) -> None:
        await self.session.execute(pg_insert(agreement_acceptances).values(passport_id=passport_id, version=version, accepted_at=at).on_conflict_do_nothing())


class SqlExamSessions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[ExamSession]:
        rows = await self.session.execute(select(exam_sessions))
        return [ExamSession(r.id, r.name, r.registration_opens_at, r.registration_closes_at) for r in rows]


def _registration(row: Any) -> Registration:
    return Registration(row.id, row.exam_session_id, row.passport_id, row.student_id, row.snapshot, list(row.qualification_subjects), row.saved_at)


class SqlRegistrations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _one(self, *where: ColumnElement[bool], for_update: bool = False) -> Registration | None:
        query = select(registrations).where(*where)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).first()
        return None if row is None else _registration(row)

    async def bound(self, exam_session_id: uuid.UUID, passport_id: str) -> Registration | None:
        return await self._one(registrations.c.exam_session_id == exam_session_id, registrations.c.passport_id == passport_id)

    async def get(self, registration_id: uuid.UUID, *, for_update: bool = False) -> Registration | None:
        return await self._one(registrations.c.id == registration_id, for_update=for_update)

    async def add(self, registration: Registration) -> None:
        # E7: the two unique constraints decide between concurrent saves; a savepoint keeps the
        # transaction usable for the loser's answer.
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(registrations).values(**registration.__dict__))
        except IntegrityError as exc:
            raise BindingTaken("candidate" if "registrations_one_account_per_candidate" in str(exc.orig) else "account") from None

    async def of_student(self, student_id: uuid.UUID) -> list[Registration]:
        rows = await self.session.execute(select(registrations).where(registrations.c.student_id == student_id).with_for_update())
        return [_registration(r) for r in rows]

    async def set_subjects(self, registration_id: uuid.UUID, subject_codes: list[str]) -> None:
        await self.session.execute(update(registrations).where(registrations.c.id == registration_id).values(qualification_subjects=subject_codes))

    async def move(self, registration_id: uuid.UUID, passport_id: str) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(update(registrations).where(registrations.c.id == registration_id).values(passport_id=passport_id))
        except IntegrityError:
            raise BindingTaken("account") from None

    async def latest_passport_of(self, student_id: uuid.UUID) -> str | None:
        found: str | None = await self.session.scalar(
            select(registrations.c.passport_id).where(registrations.c.student_id == student_id).order_by(registrations.c.saved_at.desc()).limit(1)
        )
        return found

    async def latest_email_of(self, student_id: uuid.UUID) -> str | None:
        """The email of the account bound in the most recent exam session (E11)."""
        email: str | None = await self.session.scalar(
            select(accounts.c.email)
            .select_from(registrations)
            .join(exam_sessions, exam_sessions.c.id == registrations.c.exam_session_id)
            .join(accounts, accounts.c.passport_id == registrations.c.passport_id)
            .where(registrations.c.student_id == student_id)
            .order_by(exam_sessions.c.registration_opens_at.desc(), registrations.c.saved_at.desc())
            .limit(1)
        )
        return email

    async def by_identity(self, *, id_type: str, id_number: str) -> list[FoundRegistration]:
        rows = await self.session.execute(
            select(registrations, exam_sessions.c.name.label("session_name"))
            .join(exam_sessions, exam_sessions.c.id == registrations.c.exam_session_id)
            .where(registrations.c.snapshot["id_type"].astext == id_type, registrations.c.snapshot["id_number"].astext == id_number)
            .order_by(exam_sessions.c.registration_opens_at.desc())
        )
        return [FoundRegistration(_registration(r), r.session_name) for r in rows]

    async def delete(self, registration_id: uuid.UUID) -> None:
        await self.session.execute(delete(registrations).where(registrations.c.id == registration_id))

    async def record_rebinding(self, rebinding: Rebinding) -> None:
        await self.session.execute(insert(rebind_audit).values(**rebinding.__dict__))


def _review(row: Any) -> Review:
    values = {name: getattr(row, name) for name in REVIEW_FIELDS}
    return Review(**{**values, "status": ReviewStatus(row.status)})


class SqlReviews:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _one(self, *where: ColumnElement[bool], for_update: bool = False) -> Review | None:
        query = select(cet6_reviews).where(*where)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).first()
        return None if row is None else _review(row)

    async def of_account(self, passport_id: str, *, for_update: bool = False) -> Review | None:
        return await self._one(cet6_reviews.c.passport_id == passport_id, for_update=for_update)

    async def unclaimed_of(self, student_id: uuid.UUID) -> Review | None:
        return await self._one(cet6_reviews.c.student_id == student_id, cet6_reviews.c.passport_id.is_(None), for_update=True)

    async def in_school(self, review_id: uuid.UUID, school_code: str) -> Review | None:
        return await self._one(cet6_reviews.c.id == review_id, cet6_reviews.c.school_code == school_code, for_update=True)

    async def list_school(self, school_code: str, status: ReviewStatus | None) -> list[Review]:
        query = select(cet6_reviews).where(cet6_reviews.c.school_code == school_code).order_by(cet6_reviews.c.submitted_at)
        if status is not None:
            query = query.where(cet6_reviews.c.status == status.value)
        return [_review(r) for r in await self.session.execute(query)]

    async def add(self, review: Review) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(cet6_reviews).values(**{**review.__dict__, "status": review.status.value}))
        except IntegrityError:
            raise ReviewExists() from None

    async def save(self, review: Review) -> None:
        values = {**review.__dict__, "status": review.status.value}
        del values["id"]
        await self.session.execute(update(cet6_reviews).where(cet6_reviews.c.id == review.id).values(**values))

    async def delete(self, review_id: uuid.UUID) -> None:
        await self.session.execute(delete(cet6_reviews).where(cet6_reviews.c.id == review_id))

    async def claim(self, student_id: uuid.UUID, passport_id: str) -> None:
        await self.session.execute(
            update(cet6_reviews)
            .where(cet6_reviews.c.student_id == student_id, cet6_reviews.c.passport_id.is_(None))
            .where(~select(cet6_reviews.c.id).where(cet6_reviews.c.passport_id == passport_id).exists())
            .values(passport_id=passport_id)
        )

    async def move(self, *, student_id: uuid.UUID, old_passport_id: str, new_passport_id: str) -> None:
        await self.session.execute(
            update(cet6_reviews)
            .where(cet6_reviews.c.passport_id == old_passport_id, cet6_reviews.c.student_id == student_id)
            .values(passport_id=new_passport_id)
        )


class SqlThrottles:
    """Rate-limit windows and captcha nonces, kept in PostgreSQL so every replica sees them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def consume(self, limit: RateLimit, subject: str, *, clock: Clock) -> None:
        await limit.consume(self.session, subject, clock=clock)

    async def verify_captcha(self, seal: CaptchaSeal, token: str, answer: str, *, clock: Clock) -> None:
        await seal.verify(self.session, token, answer, clock=clock)
