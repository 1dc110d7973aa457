"""N13 at scale, in SQL: the arrangement job's rows, the freeze and the set-based batches.

The freeze is an INSERT … SELECT a few offerings at a time, in the order rooms fill (campus,
subject, payment time, id): every paid, not yet arranged subject numbered with row_number() after
the job's last ordinal, with its room, seat and ticket number after the seats already given. A
batch is one UPDATE … FROM a range of that queue: no row leaves the database, and only the batch's
own enrolments are locked while it runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from enrolment.db.arrangement_tables import arrangement_jobs, arrangement_queue
from enrolment.db.tables import exam_sessions, offerings
from enrolment.domain.arrangement import ACTIVE, ArrangementJob

j = arrangement_jobs.c

# domain.rules.ticket_number in SQL (tests/test_arrangement_job.py holds the two to the same digits):
# written: region, school[3:5], campus[6], yy, half, subject, room, seat; oral: F|S first, no subject digit.
_FREEZE = text("""
WITH seated AS (
    -- after the last seat already given (not the count: a subject refunded after arrangement leaves its seat empty)
    SELECT e.offering_id, max((e.room - 1) * CAST(:per_room AS integer) + e.seat) AS next_index
    FROM enrolments e
    WHERE e.offering_id = ANY(:offerings) AND e.arranged_at IS NOT NULL
    GROUP BY e.offering_id
), ordered AS (
    SELECT e.id, e.subject_code, o.province_code, o.school_code, o.campus_code,
           CAST(:after AS bigint) + row_number() OVER (ORDER BY o.campus_code, o.subject_code, e.paid_at, e.id) AS ordinal,
           coalesce(s.next_index, 0) - 1
             + row_number() OVER (PARTITION BY o.campus_code, o.subject_code ORDER BY e.paid_at, e.id) AS seat_index
    FROM offerings o
    JOIN enrolments e ON e.offering_id = o.id
    LEFT JOIN seated s ON s.offering_id = o.id
    WHERE o.id = ANY(:offerings) AND e.status = 'paid' AND e.arranged_at IS NULL
), placed AS (
    SELECT *, seat_index / CAST(:per_room AS integer) + 1 AS room, seat_index % CAST(:per_room AS integer) + 1 AS seat,
           province_code || substr(school_code, 3, 3) || substr(campus_code, 6, 1)
             || lpad((CAST(:year AS integer) % 100)::text, 2, '0') || CAST(:half AS text) AS head
    FROM ordered
)
INSERT INTO arrangement_queue (job_id, ordinal, enrolment_id, room, seat, ticket_number)
SELECT :job, ordinal, id, room, seat,
       CASE WHEN subject_code IN ('F', 'S') THEN subject_code || head ELSE head || subject_code END
       || lpad(room::text, 3, '0') || lpad(seat::text, 2, '0')
FROM placed
""").bindparams(bindparam("offerings", type_=ARRAY(UUID(as_uuid=True))))

_WRITE_BATCH = text("""
UPDATE enrolments e SET room = q.room, seat = q.seat, ticket_number = q.ticket_number, arranged_at = :now
FROM arrangement_queue q
WHERE q.job_id = :job AND q.ordinal BETWEEN :first AND :last
  AND e.id = q.enrolment_id AND e.status = 'paid' AND e.arranged_at IS NULL
""")


def _job(row: Row[Any]) -> ArrangementJob:
    return ArrangementJob(
        id=row.id,
        exam_session_id=row.exam_session_id,
        requested_by=row.requested_by,
        status=row.status,
        total=row.total,
        arranged=row.arranged,
        done_through=row.done_through,
        frozen_through=(row.frozen_campus, row.frozen_subject) if row.frozen_campus else None,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


async def exam(session: AsyncSession, session_id: uuid.UUID) -> Row[Any] | None:
    query = select(exam_sessions.c.registration_closes_at, exam_sessions.c.year, exam_sessions.c.half, exam_sessions.c.arranged_at)
    return (await session.execute(query.where(exam_sessions.c.id == session_id))).first()


async def queue_job(session: AsyncSession, session_id: uuid.UUID, *, requested_by: str, now: datetime) -> uuid.UUID | None:
    """A new job, or None while one of the session is queued or running."""
    return await session.scalar(
        insert(arrangement_jobs)
        .values(id=uuid.uuid4(), exam_session_id=session_id, requested_by=requested_by, status="queued", created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["exam_session_id"], index_where=j.status.in_(ACTIVE))
        .returning(j.id)
    )


async def job(session: AsyncSession, job_id: uuid.UUID) -> ArrangementJob | None:
    row = (await session.execute(select(arrangement_jobs).where(j.id == job_id))).first()
    return _job(row) if row else None


async def jobs_of(session: AsyncSession, session_id: uuid.UUID, *, limit: int) -> list[ArrangementJob]:
    query = select(arrangement_jobs).where(j.exam_session_id == session_id).order_by(j.created_at.desc(), j.id.desc()).limit(limit)
    return [_job(row) for row in await session.execute(query)]


async def active_job(session: AsyncSession, session_id: uuid.UUID) -> ArrangementJob | None:
    row = (await session.execute(select(arrangement_jobs).where(j.exam_session_id == session_id, j.status.in_(ACTIVE)))).first()
    return _job(row) if row else None


async def claim(session: AsyncSession, *, now: datetime, until: datetime, only: uuid.UUID | None) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The oldest active job whose lease ran out (or never had one), leased to the caller."""
    query = select(j.id).where(j.status.in_(ACTIVE), j.leased_until.is_(None) | (j.leased_until < now))
    if only is not None:
        query = query.where(j.id == only)
    job_id = await session.scalar(query.order_by(j.created_at).limit(1).with_for_update(skip_locked=True))
    if job_id is None:
        return None
    token = uuid.uuid4()
    await session.execute(update(arrangement_jobs).where(j.id == job_id).values(lease_token=token, leased_until=until))
    return job_id, token


async def leased(session: AsyncSession, job_id: uuid.UUID, token: uuid.UUID) -> ArrangementJob | None:
    """The job, locked, if the caller still holds its lease."""
    row = (await session.execute(select(arrangement_jobs).where(j.id == job_id, j.lease_token == token).with_for_update())).first()
    return _job(row) if row else None


async def next_offerings(session: AsyncSession, session_id: uuid.UUID, *, after: tuple[str, str] | None, limit: int) -> list[Row[Any]]:
    """The session's next offerings to freeze, in the order rooms fill: (campus, subject)."""
    o = offerings.c
    query = select(o.id, o.campus_code, o.subject_code).where(o.exam_session_id == session_id)
    if after is not None:
        query = query.where(tuple_(o.campus_code, o.subject_code) > tuple_(*after))
    return list(await session.execute(query.order_by(o.campus_code, o.subject_code).limit(limit)))


async def freeze(session: AsyncSession, job: ArrangementJob, offering_ids: list[uuid.UUID], *, per_room: int, year: int, half: int) -> int:
    """Queue these offerings' paid, not yet arranged subjects after the job's last ordinal."""
    params = {"job": job.id, "offerings": offering_ids, "after": job.total, "per_room": per_room, "year": year, "half": str(half)}
    return (await session.execute(_FREEZE, params)).rowcount or 0


async def queued_at(session: AsyncSession, job_id: uuid.UUID, ordinal: int) -> bool:
    """Is this ordinal still in the queue (an UNLOGGED table a server crash empties)?"""
    query = select(func.count()).select_from(arrangement_queue).where(arrangement_queue.c.job_id == job_id, arrangement_queue.c.ordinal == ordinal)
    return bool(await session.scalar(query))


async def write_batch(session: AsyncSession, job_id: uuid.UUID, first: int, last: int, *, now: datetime) -> int:
    """The seats of queue ordinals first … last; their queue rows go with the batch."""
    written = (await session.execute(_WRITE_BATCH, {"job": job_id, "first": first, "last": last, "now": now})).rowcount or 0
    q = arrangement_queue.c
    await session.execute(arrangement_queue.delete().where(q.job_id == job_id, q.ordinal.between(first, last)))
    return written


async def set_job(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(arrangement_jobs).where(j.id == job_id).values(**values))


async def add_arranged(session: AsyncSession, job_id: uuid.UUID, count: int, *, done_through: int, now: datetime, until: datetime) -> None:
    await set_job(session, job_id, arranged=j.arranged + count, done_through=done_through, updated_at=now, leased_until=until)


async def drop_queue(session: AsyncSession, job_id: uuid.UUID) -> None:
    await session.execute(arrangement_queue.delete().where(arrangement_queue.c.job_id == job_id))


async def mark_session_arranged(session: AsyncSession, session_id: uuid.UUID, at: datetime) -> None:
    await session.execute(update(exam_sessions).where(exam_sessions.c.id == session_id).values(arranged_at=at))
