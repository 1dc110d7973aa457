"""Seeding for the peak benchmark (bench/peak.py): one exam session of the running suite with one
campus per cohort, its candidates bound in enrolment and given passport accounts.

Through the services' own code where it exists, and SQL on their databases the way
bench/seat_grab.py does where a candidate's earlier steps would take too long to replay:
- the exam session: enrolment's `create_session` + `publish` (eligibility learns it from the event);
- bound registrations: enrolment's own `RegistrationBound` handler (`on_registration_bound`);
- notices read (N3) and, for the oral cohorts, the written subjects already held (N6): SQL, as
  seat_grab.py does;
- passport accounts: rows in passport's `accounts` table, every one with the same argon2id hash
  made by passport's own hasher (hashing 5,000 passwords at the service's cost would take minutes
  and change nothing the log-in measures: verifying costs the same for any hash of those parameters);
- access tokens: passport's own signer (`ctx.signer.issue`) with the suite's key; captchas sealed
  with the suite's secret (passport's `CaptchaSeal`), as the e2e harness does.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

PASSWORD = "Bench-peak-2026"  # every benchmark account's (local, throw-away accounts)
PROVINCE = "98"


def load_env() -> None:
    """The running suite's settings (`make up` wrote .local/env)."""
    env = Path(__file__).resolve().parents[1] / ".local" / "env"
    if not env.exists():
        raise SystemExit("no .local/env: start the suite first (make up)")
    for line in env.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[7:].partition("=")
            os.environ.setdefault(name, value.strip("'\""))


@dataclass
class Person:
    passport_id: str
    registration_id: uuid.UUID
    email: str


@dataclass
class Cohort:
    """Candidates registered at one campus, which offers the written subjects 1 and 2 and the
    orals F and S with the capacities asked."""

    name: str
    index: int
    size: int
    capacity: int  # of each oral offering
    written_held: bool = True
    people: list[Person] = field(default_factory=list)
    offering: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def school(self) -> str:
        return f"{PROVINCE}{self.index:03d}"

    @property
    def campus(self) -> str:
        return f"{self.school}0"


def _campus(cohort: Cohort, window: dict) -> dict:
    return {
        "province_code": PROVINCE,
        "school_code": cohort.school,
        "school_name": f"压测学校{cohort.index}",
        "campus_code": cohort.campus,
        "campus_name": f"{cohort.school}-0校区",
        "offerings": [
            {"subject": "1", "fee_fen": 1},
            {"subject": "2", "fee_fen": 1},
            {"subject": "F", "fee_fen": 1, "capacity": cohort.capacity, **window},
            {"subject": "S", "fee_fen": 1, "capacity": cohort.capacity, **window},
        ],
    }


async def seed(cohorts: list[Cohort], log) -> uuid.UUID:
    """Create the session, its campuses, and every cohort's candidates; returns the session id."""
    from sqlalchemy import text

    from enrolment.bootstrap import bootstrap as enrolment_bootstrap
    from enrolment.service.session_specs import SessionSpec
    from enrolment.service.sessions import create_session, publish

    ctx = enrolment_bootstrap()
    now = datetime.now(UTC)
    window = {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=10)}
    spec = SessionSpec.model_validate(
        {
            "name": f"压测 {now:%Y-%m-%d %H:%M:%S}",
            "year": 2026,
            "half": 2,
            "registration": window,
            "written_exam_date": (now + timedelta(days=30)).date(),
            "oral_exam_dates": {"F": (now + timedelta(days=20)).date(), "S": (now + timedelta(days=21)).date()},
            "campuses": [_campus(c, window) for c in cohorts],
        }
    )
    try:
        session_id = await create_session(ctx.unit_of_work, spec)
        await publish(ctx.unit_of_work, ctx.clock, session_id)
        async with ctx.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, campus_code, subject_code FROM offerings WHERE exam_session_id = :s"), {"s": session_id})).all()
        by_campus = {(campus, subject): oid for oid, campus, subject in rows}
        for cohort in cohorts:
            cohort.offering = {s: by_campus[(cohort.campus, s)] for s in ("1", "2", "F", "S")}
            log(f"  cohort {cohort.name}: {cohort.size} candidates at campus {cohort.campus} (oral capacity {cohort.capacity})")
            chunks = [range(start, min(cohort.size, start + 500)) for start in range(0, cohort.size, 500)]
            for first in range(0, len(chunks), 4):  # four transactions at once: seeding waits on round trips
                for batch in await asyncio.gather(*(_bind(ctx, cohort, session_id, chunk, now) for chunk in chunks[first : first + 4])):
                    cohort.people.extend(batch)
    finally:
        await ctx.engine.dispose()
    await _accounts([p for c in cohorts for p in c.people])
    return session_id


async def _bind(ctx, cohort: Cohort, session_id: uuid.UUID, indexes: range, now: datetime) -> list[Person]:
    """One transaction: these candidates bound (enrolment's own handler), their notices read, and
    the written subjects held when the cohort grabs orals."""
    from sqlalchemy import insert, text

    from cet_shared.events.contracts import RegistrationBound, RegistrationSnapshot
    from enrolment.db.tables import enrolments
    from enrolment.service.projections import on_registration_bound

    async with ctx.unit_of_work() as uow:
        batch = []
        for index in indexes:
            person = Person(uuid.uuid4().hex.upper(), uuid.uuid4(), f"peak-{uuid.uuid4().hex[:12]}@bench.test")
            snapshot = RegistrationSnapshot(
                name=f"压测{cohort.index}-{index}",
                gender="女",
                id_type="resident_id_card",
                id_number=f"98{cohort.index:03d}{index:013d}",
                province_code=PROVINCE,
                school_code=cohort.school,
                school_name=f"压测学校{cohort.index}",
                campus_code=cohort.campus,
                campus_name=f"{cohort.school}-0校区",
                qualification_subjects=["1", "2", "F", "S"],
            )
            await on_registration_bound(
                uow,
                RegistrationBound(
                    registration_id=person.registration_id,
                    exam_session_id=session_id,
                    passport_id=person.passport_id,
                    snapshot=snapshot,
                    bound_at=now,
                ),
            )
            batch.append(person)
        ids = [p.registration_id for p in batch]
        await uow.session.execute(text("UPDATE registrations SET notices_acknowledged_at = now() WHERE registration_id = ANY(:ids)"), {"ids": ids})
        if cohort.written_held:
            await uow.session.execute(
                insert(enrolments),
                [
                    {
                        "id": uuid.uuid4(),
                        "registration_id": p.registration_id,
                        "exam_session_id": session_id,
                        "offering_id": cohort.offering[code],
                        "subject_code": code,
                        "kind": "written",
                        "level": level,
                        "fee_fen": 1,
                        "status": "held",
                        "seat_held": True,
                        "enrolled_at": now,
                        "expires_at": now + timedelta(hours=24),
                    }
                    for p in batch
                    for code, level in (("1", 4), ("2", 6))
                ],
            )
        await uow.commit()
    return batch


async def _accounts(people: list[Person]) -> None:
    from sqlalchemy import insert

    from passport.bootstrap import bootstrap as passport_bootstrap
    from passport.db.tables import accounts

    ctx = passport_bootstrap()
    try:
        password_hash = await ctx.passwords.hash(PASSWORD)
        async with ctx.unit_of_work() as uow:
            for start in range(0, len(people), 2000):
                await uow.session.execute(
                    insert(accounts),
                    [
                        {
                            "passport_id": p.passport_id,
                            "email": p.email,
                            "email_normalised": p.email,
                            "password_hash": password_hash,
                            "email_verified_at": datetime.now(UTC),
                        }
                        for p in people[start : start + 2000]
                    ],
                )
            await uow.commit()
    finally:
        await ctx.close()


class Credentials:
    """Tokens and captchas as passport makes them (its signer and seal, the suite's secrets)."""

    def __init__(self) -> None:
        from passport.bootstrap import bootstrap as passport_bootstrap

        self._ctx = passport_bootstrap()

    def token(self, person: Person) -> str:
        return self._ctx.signer.issue(passport_id=person.passport_id, roles=["candidate"], token_version=0, school_code=None, now=datetime.now(UTC))

    def captcha(self) -> tuple[str, str]:
        from cet_shared.clock import SystemClock

        answer = "CET4"
        return self._ctx.captcha.seal(answer, clock=SystemClock(), ttl=timedelta(minutes=5)), answer

    async def close(self) -> None:
        await self._ctx.close()
