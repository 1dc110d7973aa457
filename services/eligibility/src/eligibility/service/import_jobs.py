"""Registry and score import jobs (E13, E10 at national scale): the api receives a file into a
job, eligibility's worker runs queued jobs batch by batch (a dead worker's job is resumed once its
lease runs out), the importer follows its progress and downloads the error report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from cet_shared.clock import Clock
from cet_shared.problems import Problem
from eligibility.domain.csv_rows import RowError
from eligibility.domain.csv_stream import FileNotUtf8, FileTooLarge
from eligibility.domain.import_jobs import ImportJob, ImportKind
from eligibility.service.ports import ImportJobs


@dataclass(frozen=True)
class ImportPace:
    """How a job runs: lines checked per statement, rows merged per transaction, the lease."""

    check_batch: int = 50_000
    merge_batch: int = 10_000
    lease: timedelta = timedelta(minutes=2)
    # An upload still receiving after this long lost its api process: its staged rows go.
    abandoned_after: timedelta = timedelta(days=1)


class PaceSettings(Protocol):
    import_check_batch: int
    import_merge_batch: int
    import_lease: timedelta


def pace_of(settings: PaceSettings) -> ImportPace:
    return ImportPace(check_batch=settings.import_check_batch, merge_batch=settings.import_merge_batch, lease=settings.import_lease)


def import_invalid(errors: list[RowError]) -> Problem:
    return Problem(422, "import_invalid", "导入文件有错误，未导入任何数据，请按错误列表修改后重新导入", errors=[e.as_dict() for e in errors])


def no_job() -> Problem:
    return Problem(404, "import_not_found", "未找到该导入任务")


async def receive_file(
    jobs: ImportJobs, clock: Clock, kind: ImportKind, chunks: AsyncIterable[bytes], *, scope: str | None, max_bytes: int
) -> tuple[ImportJob, bool]:
    """The file streamed to staging; `scope` None for operations (any school), else a teacher's school."""
    try:
        return await jobs.receive(kind, chunks, scope=scope or "", max_bytes=max_bytes, now=clock.now())
    except FileTooLarge:
        raise Problem(413, "payload_too_large", "提交的内容过大") from None
    except FileNotUtf8:
        raise Problem(422, "import_encoding", "文件编码不正确，请保存为UTF-8编码的CSV文件") from None


async def run_job(jobs: ImportJobs, clock: Clock, job_id: uuid.UUID, token: uuid.UUID, pace: ImportPace, *, max_steps: int | None = None) -> ImportJob | None:
    """Batches of one claimed job until it finishes, the lease is lost (None) or `max_steps` ran."""
    job: ImportJob | None = None
    steps = 0
    while max_steps is None or steps < max_steps:
        job = await jobs.step(job_id, token, now=clock.now(), lease=pace.lease, check_batch=pace.check_batch, merge_batch=pace.merge_batch)
        steps += 1
        if job is None or job.status.finished:
            return job
    return job


async def run_queued_imports(jobs: ImportJobs, clock: Clock, pace: ImportPace, *, max_steps: int | None = None) -> int:
    """The worker's periodic job: every claimable job to its end. Returns the rows merged."""
    await jobs.forget_abandoned(started_before=clock.now() - pace.abandoned_after)
    merged = 0
    while (claim := await jobs.claim(now=clock.now(), lease=pace.lease)) is not None:
        before, token = claim
        job = await run_job(jobs, clock, before.id, token, pace, max_steps=max_steps)
        if job is None or not job.status.finished:
            return merged + (job.rows_merged - before.rows_merged if job else 0)
        merged += job.rows_merged - before.rows_merged
    return merged


async def finish(jobs: ImportJobs, clock: Clock, job_id: uuid.UUID, pace: ImportPace, *, poll: float = 0.5) -> ImportJob:
    """This job to its end here and now (a synchronous import), or waiting while a worker runs it."""
    while True:
        claim = await jobs.claim(now=clock.now(), lease=pace.lease, only=job_id)
        if claim is not None:
            job = await run_job(jobs, clock, job_id, claim[1], pace)
            if job is not None and job.status.finished:
                return job
        current = await jobs.get(job_id)
        if current is None:
            raise no_job()
        if current.status.finished:
            return current
        await asyncio.sleep(poll)  # a worker holds it: its progress is in the job row


async def visible_job(jobs: ImportJobs, job_id: uuid.UUID, *, scope: str | None) -> ImportJob:
    """A teacher sees their own school's jobs only; another's is 404, as if absent."""
    job = await jobs.get(job_id)
    if job is None or (scope is not None and job.scope != scope):
        raise no_job()
    return job
