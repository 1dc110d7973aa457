"""口试报考, the sign-up peak's hot path (N9, N10, N11): every candidate of a province grabs an oral
seat in the same minutes, so this path is kept to plain asyncpg statements and the pure rules.

Two round trips for a hold, one for a refusal, and the guarantees of the other enrolment paths:
- one statement reads the offering and the candidate's context (view `oral_contexts`: registration,
  the session's windows, the school's oral setting, the active subjects) with its fingerprint;
- every N9/N10/N11 check runs on it in Python (`domain.rules`, unchanged, same order as before): an
  unknown or full (red 无) campus is answered before anything is locked;
- one call of `take_oral_hold()` (migration 0003) takes the registration's row lock (a candidate's
  concurrent clicks apply one after the other), re-reads the context with a fresh snapshot and,
  only if it is what the rules were checked against, inserts the hold and its SubjectEnrolled
  outbox row and, last, takes the seat (the conditional UPDATE `remaining > 0`). It is its own
  transaction and commits as soon as it returns, so the offering's row lock (the one every grab of
  a campus queues on) lives only as long as the commit, and the hold, its event and its seat commit
  together or not at all; no seat left is SQLSTATE CE409, answered `seats_full`.
"""

from __future__ import annotations

import uuid

import asyncpg
from opentelemetry import propagate

from cet_shared.events.contracts import SubjectEnrolled
from cet_shared.events.envelope import EventEnvelope
from cet_shared.problems import Problem
from enrolment.bootstrap import Enrolment
from enrolment.domain.rules import Active, check_oral, seats_full
from enrolment.domain.subjects import SUBJECTS
from enrolment.service.candidates import check_campus_allowed, check_can_enrol, exam_date_of, offering_view
from enrolment.service.problems import offering_not_found, problem, refusals_as_problems, registration_not_found

# The offering and the candidate's context (view oral_contexts, migration 0003) with its fingerprint.
_CONTEXT = (
    "registration_id", "exam_session_id", "passport_id", "province_code", "school_code", "campus_code", "qualification_subjects",
    "released_at", "registration_opens_at", "registration_closes_at", "published_at", "oral_exam_dates", "allow_other_schools",
    "allowed_campus_codes", "active_codes",
)
_READ = f"""
SELECT o.id, o.exam_session_id, o.subject_code, o.province_code, o.school_code, o.campus_code, o.fee_fen, o.capacity, o.remaining,
       o.opens_at, o.closes_at, o.accepts_other_schools, c.fingerprint, {", ".join(f"c.{name} AS r_{name}" for name in _CONTEXT)}
FROM offerings o
LEFT JOIN LATERAL (
    SELECT v.*, md5(v::text) AS fingerprint FROM oral_contexts v WHERE v.passport_id = $2 ORDER BY v.bound_at DESC LIMIT 1
) c ON true
WHERE o.id = $1
"""
_TAKE = "SELECT take_oral_hold($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
# take_oral_hold() refuses only when the candidate's own state changed between the read and the
# lock (another click of theirs, a cancel, an expiry): read and check again, a few times at most.
ATTEMPTS = 3


def _refused_for_seats(error: asyncpg.PostgresError) -> bool:
    return getattr(error, "sqlstate", None) == "CE409"


async def enrol_oral(ctx: Enrolment, passport_id: str, offering_id: uuid.UUID) -> uuid.UUID:
    pool = await ctx.driver_pool()
    async with pool.acquire() as connection:
        for _ in range(ATTEMPTS):
            now = ctx.clock.now()
            row = await connection.fetchrow(_READ, offering_id, passport_id)
            enrolment_id = uuid.uuid4()
            arguments = _checked_hold(ctx, passport_id, row, enrolment_id, now)
            try:
                taken = await connection.fetchval(_TAKE, *arguments)
            except asyncpg.PostgresError as error:
                if _refused_for_seats(error):
                    raise problem(seats_full()) from None
                raise
            if taken:
                return enrolment_id
    raise Problem(409, "conflict", "操作冲突，请刷新后重试")


def _checked_hold(ctx: Enrolment, passport_id: str, row, enrolment_id: uuid.UUID, now) -> tuple:  # noqa: ANN001
    """Every check, in the order the other paths use; the arguments of take_oral_hold()."""
    if row is None or SUBJECTS[row["subject_code"]].kind != "oral":
        raise offering_not_found()
    offering = dict(row)
    if offering["remaining"] == 0:
        # The peak's common answer, given before taking the candidate's lock: a red 无 campus
        # cannot be chosen whatever else is true (N11).
        raise problem(seats_full())
    if row["fingerprint"] is None:
        raise registration_not_found()
    registration = {name: row[f"r_{name}"] for name in _CONTEXT}
    if offering["exam_session_id"] != registration["exam_session_id"]:
        raise offering_not_found()
    setting = (
        {"allow_other_schools": registration["allow_other_schools"], "allowed_campus_codes": registration["allowed_campus_codes"]}
        if registration["allow_other_schools"] is not None
        else None
    )
    active = [Active(code, SUBJECTS[code].kind, SUBJECTS[code].level) for code in registration["active_codes"] or []]
    oral = SUBJECTS[offering["subject_code"]]
    with refusals_as_problems():
        check_can_enrol(registration, now)
        check_campus_allowed(registration, setting, offering)
        check_oral(oral, registration["qualification_subjects"], active, exam_date=exam_date_of(registration, oral.code), offering=offering_view(offering), now=now)
    expires_at = now + ctx.settings.unpaid_lifetime
    registration_id = registration["registration_id"]
    event = SubjectEnrolled(
        enrolment_id=enrolment_id,
        registration_id=registration_id,
        passport_id=registration["passport_id"],
        subject_code=oral.code,
        subject_name=oral.label,
        campus_code=offering["campus_code"],
        fee_fen=offering["fee_fen"],
        expires_at=expires_at,
    )
    # The outbox row as cet_shared.outbox.enqueue writes it (envelope, W3C trace context headers).
    envelope = EventEnvelope.wrap(event, key=str(registration_id), producer="enrolment")
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return (
        passport_id, row["fingerprint"], registration_id, registration["exam_session_id"], enrolment_id, offering["id"], oral.code, oral.level,
        offering["fee_fen"], now, expires_at, offering["capacity"] is not None, envelope.event_id, event.topic, event.event_type,
        envelope.model_dump(mode="json"), headers,
    )
