"""N13 编排 at national scale: a resumable background job run by enrolment's worker.

1. `request_arrangement` (operations, after registration closes) queues a job, one per session at
   a time, and audits its start.
2. A worker claims it under a lease (FOR UPDATE SKIP LOCKED) and freezes its input, a few offerings
   per short statement (db.arrangement_store): same input, same seats, whatever the batch size.
3. Batch after batch, each its own short transaction, writes the seats of a range of the frozen
   order and moves the job's resumption point with it. Nothing session-wide is locked across
   batches, so candidates, teachers and payments keep going; a subject refunded meanwhile is skipped
   (its seat stays empty), one paid after the freeze is seated by the next run. A worker that dies
   loses only its open batch; the next one, once the lease ran out, starts there.
4. The last step marks the session arranged and audits the end.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from cet_shared import audit
from cet_shared.clock import Clock
from cet_shared.db import UnitOfWork
from cet_shared.problems import Problem
from enrolment.db import arrangement_store as store
from enrolment.domain.arrangement import ArrangementJob, batch_range
from enrolment.service.problems import session_not_found
from enrolment.service.units import UnitFactory
from enrolment.settings import EnrolmentSettings


@dataclass(frozen=True)
class ArrangementRun:
    """What a run needs besides the units of work and the clock (from EnrolmentSettings)."""

    seats_per_room: int
    batch: int
    lease: timedelta
    freeze_offerings: int = 20

    @classmethod
    def of(cls, settings: EnrolmentSettings) -> ArrangementRun:
        return cls(
            seats_per_room=settings.seats_per_room,
            batch=settings.arrangement_batch,
            lease=settings.arrangement_lease,
            freeze_offerings=settings.arrangement_freeze_offerings,
        )


def arrangement_not_found() -> Problem:
    return Problem(404, "arrangement_not_found", "未找到该编排任务")


async def request_arrangement(units: UnitFactory, clock: Clock, session_id: uuid.UUID, *, requested_by: str) -> tuple[ArrangementJob, bool]:
    """(the job, whether this request queued it): while a run is queued or running, asking again returns it."""
    now = clock.now()
    async with units() as uow:
        exam = await store.exam(uow.session, session_id)
        if exam is None:
            raise session_not_found()
        if now < exam.registration_closes_at:
            raise Problem(409, "registration_not_closed", "报名尚未结束，不能编排")
        job_id = await store.queue_job(uow.session, session_id, requested_by=requested_by, now=now)
        if job_id is None:
            active = await store.active_job(uow.session, session_id)
            if active is None:  # finished between the two statements: ask again
                raise Problem(409, "arrangement_just_finished", "编排任务刚刚结束，请重新提交")
            return active, False
        await audit.record(uow.session, "arrangement.started", ("exam_session", session_id), after={"job_id": job_id, "arranged_at": exam.arranged_at})
        await uow.commit()
        job = await store.job(uow.session, job_id)
    assert job is not None
    return job, True


async def job_of(units: UnitFactory, session_id: uuid.UUID, job_id: uuid.UUID) -> ArrangementJob:
    async with units() as uow:
        job = await store.job(uow.session, job_id)
    if job is None or job.exam_session_id != session_id:
        raise arrangement_not_found()
    return job


async def jobs_of(units: UnitFactory, session_id: uuid.UUID, *, limit: int = 20) -> list[ArrangementJob]:
    async with units() as uow:
        return await store.jobs_of(uow.session, session_id, limit=limit)


async def run_arrangements(units: UnitFactory, clock: Clock, run: ArrangementRun, *, max_batches: int | None = None) -> int:
    """The worker's periodic job: every claimable arrangement, to its end; the subjects arranged."""
    arranged = 0
    while (claim := await _claim(units, clock, run, only=None)) is not None:
        count, finished = await _run(units, clock, run, *claim, max_batches=max_batches)
        arranged += count
        if not finished:
            break
    return arranged


async def finish(units: UnitFactory, clock: Clock, run: ArrangementRun, job_id: uuid.UUID, *, poll_seconds: float = 0.2) -> ArrangementJob:
    """Run this one job to its end here (a request without Prefer: respond-async), or wait while a
    worker that holds its lease does."""
    while True:
        claim = await _claim(units, clock, run, only=job_id)
        if claim is not None:
            await _run(units, clock, run, *claim, max_batches=None)
        async with units() as uow:
            job = await store.job(uow.session, job_id)
        assert job is not None
        if not job.active:
            return job
        await asyncio.sleep(poll_seconds)


async def _claim(units: UnitFactory, clock: Clock, run: ArrangementRun, *, only: uuid.UUID | None) -> tuple[uuid.UUID, uuid.UUID] | None:
    now = clock.now()
    async with units() as uow:
        claim = await store.claim(uow.session, now=now, until=now + run.lease, only=only)
        await uow.commit()
    return claim


async def _run(units: UnitFactory, clock: Clock, run: ArrangementRun, job_id: uuid.UUID, token: uuid.UUID, *, max_batches: int | None) -> tuple[int, bool]:
    """(subjects arranged, whether the job ended) — one short transaction per step."""
    arranged = batches = 0
    while max_batches is None or batches < max_batches:
        now = clock.now()
        async with units() as uow:
            job = await store.leased(uow.session, job_id, token)
            if job is None:
                return arranged, False  # the lease passed to another worker
            if not job.active:
                return arranged, True  # failed while freezing
            if job.status == "queued":
                await _freeze_next(uow, job, run, now)
                continue
            first, last = batch_range(job.done_through, job.total, run.batch)
            if first <= last and not await store.queued_at(uow.session, job_id, first):
                # The UNLOGGED queue was emptied by a server crash: freeze again what is not yet written.
                await store.set_job(uow.session, job_id, status="queued", total=job.done_through, frozen_campus=None, frozen_subject=None, updated_at=now)
                await uow.commit()
                continue
            if first > last:
                await _end(uow, job, now)
                return arranged, True
            written = await store.write_batch(uow.session, job_id, first, last, now=now)
            await store.add_arranged(uow.session, job_id, written, done_through=last, now=now, until=now + run.lease)
            await uow.commit()
        arranged += written
        batches += 1
    return arranged, False


async def _freeze_next(uow: UnitOfWork, job: ArrangementJob, run: ArrangementRun, now: datetime) -> None:
    """Freeze the next few offerings (one short statement each time), or start writing when none is left."""
    until = now + run.lease
    offerings = await store.next_offerings(uow.session, job.exam_session_id, after=job.frozen_through, limit=run.freeze_offerings)
    if not offerings:
        await store.set_job(uow.session, job.id, status="running", updated_at=now, leased_until=until)
        await uow.commit()
        return
    exam = await store.exam(uow.session, job.exam_session_id)
    assert exam is not None
    try:
        async with uow.session.begin_nested():
            ids = [offering.id for offering in offerings]
            frozen = await store.freeze(uow.session, job, ids, per_room=run.seats_per_room, year=exam.year, half=exam.half)
    except IntegrityError:
        # More than 999 rooms for one campus and subject: a ticket number cannot say so (E10).
        await store.set_job(uow.session, job.id, status="failed", error="某校区某科目的考场超过999个，请增加校区后重新编排", finished_at=now, updated_at=now)
        await audit.record(uow.session, "arrangement.failed", ("exam_session", job.exam_session_id), after={"job_id": job.id}, actor=audit.SYSTEM)
        await store.drop_queue(uow.session, job.id)
        await uow.commit()
        return
    last = offerings[-1]
    await store.set_job(
        uow.session, job.id, total=job.total + frozen, frozen_campus=last.campus_code, frozen_subject=last.subject_code, updated_at=now, leased_until=until
    )
    await uow.commit()


async def _end(uow: UnitOfWork, job: ArrangementJob, now: datetime) -> None:
    exam = await store.exam(uow.session, job.exam_session_id)
    assert exam is not None
    await store.mark_session_arranged(uow.session, job.exam_session_id, now)
    await store.set_job(uow.session, job.id, status="done", finished_at=now, updated_at=now, lease_token=None, leased_until=None)
    await audit.record(
        uow.session,
        "session.arranged",
        ("exam_session", job.exam_session_id),
        before={"arranged_at": exam.arranged_at},
        after={"arranged_at": now, "newly_arranged": job.arranged, "job_id": job.id, "requested_by": job.requested_by},
        actor=audit.SYSTEM,
    )
    await uow.commit()
