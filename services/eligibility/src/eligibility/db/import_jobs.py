"""Import jobs on PostgreSQL (E13, E10 at national scale): the file COPYed to staging as it
arrives, then checked and merged a batch per transaction, each batch committing together with the
job's resumption point and lease, so a worker that dies is followed by one that starts after the
last committed batch: no row twice. Short transactions: candidates keep querying the registry."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.audit import Actor, current_actor, record
from cet_shared.csv_export import streamed_rows
from eligibility.db.import_rules import RULES
from eligibility.db.import_tables import STAGING, import_errors, import_jobs
from eligibility.domain.csv_rows import RowError
from eligibility.domain.csv_stream import CsvStream, FileTooLarge, Records
from eligibility.domain.import_jobs import ImportJob, ImportKind, ImportStatus
from eligibility.domain.imports import SCORE_COLUMNS, STUDENT_COLUMNS, STUDENT_REQUIRED

COPY_EVERY = 4 << 20  # bytes of file parsed and COPYed (and committed, with rows_read) at a time
_COLUMNS = {ImportKind.STUDENTS: (STUDENT_COLUMNS, STUDENT_REQUIRED), ImportKind.SCORES: (SCORE_COLUMNS, SCORE_COLUMNS)}
_ACTIVE = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.MERGING)


def _job(row: Any) -> ImportJob:
    return ImportJob(
        id=row.id, kind=ImportKind(row.kind), scope=row.scope, status=ImportStatus(row.status), requested_by=row.requested_by,
        rows_read=row.rows_read, rows_valid=row.rows_valid, rows_merged=row.rows_merged, rows_created=row.rows_created,
        error_count=row.error_count, validated_through=row.validated_through, merged_through=row.merged_through,
        created_at=row.created_at, finished_at=row.finished_at,
    )  # fmt: skip


def _copy_text(job_id: uuid.UUID, records: Records) -> bytes:
    """The records as COPY's CSV: the job, the line, the cells. A plain line is already CSV."""
    job = str(job_id)
    buffer = io.StringIO()
    buffer.write("".join([f"{job},{line},{text}\n" for line, text in records.plain]))
    row = csv.writer(buffer, lineterminator="\n").writerow
    for line, cells in records.cells:
        row((job, line, *cells))
    return buffer.getvalue().encode()


class SqlImportJobs:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine, self.sessions = engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    # -- receiving a file ------------------------------------------------------------------------

    async def receive(self, kind: ImportKind, chunks: AsyncIterable[bytes], *, scope: str, max_bytes: int, now: datetime) -> tuple[ImportJob, bool]:
        """Streams the file to staging. Returns the job and whether it is new: the same content in
        the same scope is the job already there (this upload's rows are dropped). Raises
        FileTooLarge or domain.csv_stream.FileNotUtf8, leaving nothing behind."""
        actor = current_actor()
        job_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            await session.execute(
                insert(import_jobs).values(
                    id=job_id, kind=kind.value, scope=scope, requested_by=actor.id, requested_role=actor.role, requested_from=actor.address,
                    status=ImportStatus.RECEIVING.value, created_at=now, updated_at=now,
                )
            )  # fmt: skip
        try:
            return await self._stage(job_id, kind, chunks, scope=scope, max_bytes=max_bytes, now=now)
        except BaseException:
            await self._forget(job_id, kind)
            raise

    async def _stage(
        self, job_id: uuid.UUID, kind: ImportKind, chunks: AsyncIterable[bytes], *, scope: str, max_bytes: int, now: datetime
    ) -> tuple[ImportJob, bool]:
        stream = CsvStream(*_COLUMNS[kind])
        staging = STAGING[kind.value]
        columns = [c.name for c in staging.columns]
        digest, size, pending = hashlib.sha256(), 0, bytearray()

        async def copy(records: Records) -> None:
            if not len(records):
                return
            data = await asyncio.to_thread(_copy_text, job_id, records)
            async with self.engine.begin() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                # An empty cell is "", not NULL.
                await driver.copy_to_table(staging.name, source=io.BytesIO(data), columns=columns, format="csv", force_not_null=columns[2:])
                await connection.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(rows_read=stream.records))

        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise FileTooLarge
            digest.update(chunk)
            pending += chunk
            if len(pending) >= COPY_EVERY:
                # Parsing runs off the event loop: the api keeps answering while a big file arrives.
                await copy(await asyncio.to_thread(stream.feed, bytes(pending)))
                pending.clear()
        await copy(await asyncio.to_thread(stream.feed, bytes(pending)))
        await copy(stream.finish())
        return await self._queue(job_id, kind, stream.structure_errors(), stream.header_ok and stream.records > 0, digest.hexdigest(), scope, now)

    async def _queue(
        self, job_id: uuid.UUID, kind: ImportKind, errors: list[RowError], checkable: bool, sha: str, scope: str, now: datetime
    ) -> tuple[ImportJob, bool]:
        async with self.sessions.begin() as session:
            # One upload of a content at a time decides whether it is new.
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"import:{kind}:{scope}:{sha}"})
            existing = (
                await session.execute(
                    select(import_jobs).where(import_jobs.c.kind == kind.value, import_jobs.c.scope == scope, import_jobs.c.content_sha256 == sha)
                )
            ).first()
            if existing is not None:
                await self._drop(session, job_id, kind)
                return _job(existing), False
            if errors:
                await session.execute(
                    insert(import_errors), [{"job_id": job_id, "line": e.row, "rule": 0, "field": e.field, "message": e.message} for e in errors]
                )
            status = ImportStatus.QUEUED if checkable else ImportStatus.REJECTED
            row = (
                await session.execute(
                    update(import_jobs)
                    .where(import_jobs.c.id == job_id)
                    .values(content_sha256=sha, status=status.value, error_count=len(errors), updated_at=now, finished_at=None if checkable else now)
                    .returning(import_jobs)
                )
            ).one()
            if not checkable:
                await session.execute(delete(STAGING[kind.value]).where(STAGING[kind.value].c.job_id == job_id))
            await record(
                session, f"{_noun(kind)}.import_received", ("import_job", job_id), after={"rows": row.rows_read, "status": status.value}, school=scope or None
            )
        return _job(row), True

    async def _drop(self, session: AsyncSession, job_id: uuid.UUID, kind: ImportKind) -> None:
        await session.execute(delete(STAGING[kind.value]).where(STAGING[kind.value].c.job_id == job_id))
        await session.execute(delete(import_jobs).where(import_jobs.c.id == job_id))

    async def _forget(self, job_id: uuid.UUID, kind: ImportKind) -> None:
        async with self.sessions.begin() as session:
            await self._drop(session, job_id, kind)

    # -- the worker's steps ---------------------------------------------------------------------

    async def forget_abandoned(self, *, started_before: datetime) -> int:
        """Uploads still receiving that began before `started_before`: their api process died."""
        async with self.sessions.begin() as session:
            abandoned = select(import_jobs.c.id, import_jobs.c.kind).where(
                import_jobs.c.status == ImportStatus.RECEIVING.value, import_jobs.c.created_at < started_before
            )
            rows = (await session.execute(abandoned.with_for_update(skip_locked=True))).all()
            for row in rows:
                await self._drop(session, row.id, ImportKind(row.kind))
        return len(rows)

    async def claim(self, *, now: datetime, lease: timedelta, only: uuid.UUID | None = None) -> tuple[ImportJob, uuid.UUID] | None:
        """The oldest unfinished job no live lease holds (SKIP LOCKED: workers never wait on each other)."""
        token = uuid.uuid4()
        where = [import_jobs.c.status.in_([s.value for s in _ACTIVE]), (import_jobs.c.leased_until.is_(None)) | (import_jobs.c.leased_until < now)]
        if only is not None:
            where.append(import_jobs.c.id == only)
        async with self.sessions.begin() as session:
            job_id = await session.scalar(select(import_jobs.c.id).where(*where).order_by(import_jobs.c.created_at).limit(1).with_for_update(skip_locked=True))
            if job_id is None:
                return None
            row = (
                await session.execute(
                    update(import_jobs).where(import_jobs.c.id == job_id).values(lease_token=token, leased_until=now + lease).returning(import_jobs)
                )
            ).one()
        return _job(row), token

    async def step(self, job_id: uuid.UUID, token: uuid.UUID, *, now: datetime, lease: timedelta, check_batch: int, merge_batch: int) -> ImportJob | None:
        """One batch, one transaction. None when the lease has passed to another worker."""
        async with self.engine.begin() as connection:
            row = (
                await connection.execute(select(import_jobs).where(import_jobs.c.id == job_id, import_jobs.c.lease_token == token).with_for_update())
            ).first()
            if row is None:
                return None
            job = _job(row)
            if job.status.finished:
                return job
            values: dict[str, Any] = {"leased_until": now + lease, "updated_at": now}
            if job.status in (ImportStatus.QUEUED, ImportStatus.VALIDATING):
                values |= await self._check(connection, job, now, check_batch)
            else:
                values |= await self._merge(connection, job, now, merge_batch)
            if values.get("status") in (ImportStatus.DONE.value, ImportStatus.REJECTED.value):
                values |= {"finished_at": now, "lease_token": None, "leased_until": None}
                staging = STAGING[job.kind.value]
                await connection.execute(delete(staging).where(staging.c.job_id == job_id))
            updated = _job((await connection.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(values).returning(import_jobs))).one())
            if updated.status.finished:
                await self._audit_finished(connection, row, updated)
        return updated

    async def _check(self, connection: AsyncConnection, job: ImportJob, now: datetime, batch: int) -> dict[str, Any]:
        check_lines, check_file, _, prepare = RULES[job.kind.value]
        staging = STAGING[job.kind.value]
        params = {"job": job.id, "scope": job.scope, "year": now.year}
        if job.status == ImportStatus.QUEUED:
            # Statistics of the freshly copied rows, so every batch reads its lines by the key.
            await connection.execute(text(f"ANALYZE {staging.name}"))
        last = await connection.scalar(select(func.max(staging.c.line)).where(staging.c.job_id == job.id)) or 0
        if job.validated_through < last:
            upto = job.validated_through + batch
            span = {**params, "after": job.validated_through, "upto": upto}
            rows = await connection.scalar(
                select(func.count()).select_from(staging).where(staging.c.job_id == job.id, staging.c.line > job.validated_through, staging.c.line <= upto)
            )
            errors, bad_lines = (
                await connection.execute(text(f"WITH e AS ({check_lines} RETURNING line) SELECT count(*), count(DISTINCT line) FROM e"), span)  # noqa: S608 (a constant of import_rules)
            ).one()
            return {
                "status": ImportStatus.VALIDATING.value, "validated_through": upto, "error_count": job.error_count + errors,
                "rows_valid": job.rows_valid + rows - bad_lines,
            }  # fmt: skip
        # Every line checked alone: now the rules across lines, then all or nothing (E13). They
        # sort the whole file: in memory, not in temporary files.
        await connection.execute(text("SET LOCAL work_mem = '256MB'"))
        for statement in check_file:
            await connection.execute(text(statement), params)
        errors, bad_lines = (
            await connection.execute(
                select(func.count(), func.count(import_errors.c.line.distinct())).where(import_errors.c.job_id == job.id, import_errors.c.rule > 0)
            )
        ).one()
        structure = await connection.scalar(select(func.count()).select_from(import_errors).where(import_errors.c.job_id == job.id, import_errors.c.rule == 0))
        if errors or structure:
            return {"status": ImportStatus.REJECTED.value, "error_count": errors + structure, "rows_valid": job.rows_read - bad_lines}
        for statement in prepare:
            await connection.execute(text(statement), params)
        return {"status": ImportStatus.MERGING.value, "rows_valid": job.rows_read}

    async def _merge(self, connection: AsyncConnection, job: ImportJob, now: datetime, batch: int) -> dict[str, Any]:
        merge = RULES[job.kind.value][2]
        staging = STAGING[job.kind.value]
        window = select(staging.c.line).where(staging.c.job_id == job.id, staging.c.line > job.merged_through).order_by(staging.c.line).limit(batch).subquery()
        upto = await connection.scalar(select(func.max(window.c.line)))
        if upto is None:
            return {"status": ImportStatus.DONE.value}
        merged, created = (await connection.execute(text(merge), {"job": job.id, "after": job.merged_through, "upto": upto, "now": now})).one()
        return {
            "status": ImportStatus.MERGING.value, "merged_through": upto,
            "rows_merged": job.rows_merged + merged, "rows_created": job.rows_created + created,
        }  # fmt: skip

    async def _audit_finished(self, connection: AsyncConnection, row: Any, job: ImportJob) -> None:
        actor = Actor(row.requested_by, row.requested_role, row.requested_from)
        outcome = "imported" if job.status == ImportStatus.DONE else "import_rejected"
        after = {
            "job": str(job.id),
            "rows": job.rows_read,
            "created": job.rows_created,
            "updated": job.rows_merged - job.rows_created,
            "errors": job.error_count,
        }
        async with AsyncSession(bind=connection) as session:
            await record(session, f"{_noun(job.kind)}.{outcome}", ("import_job", job.id), after=after, school=job.scope or None, actor=actor)

    # -- reading --------------------------------------------------------------------------------

    async def get(self, job_id: uuid.UUID) -> ImportJob | None:
        async with self.sessions() as session:
            row = (await session.execute(select(import_jobs).where(import_jobs.c.id == job_id))).first()
        return None if row is None else _job(row)

    async def recent(self, *, scope: str | None, limit: int) -> list[ImportJob]:
        query = select(import_jobs).where(import_jobs.c.status != ImportStatus.RECEIVING.value).order_by(import_jobs.c.created_at.desc()).limit(limit)
        if scope is not None:
            query = query.where(import_jobs.c.scope == scope)
        async with self.sessions() as session:
            return [_job(row) for row in (await session.execute(query)).all()]

    async def errors(self, job_id: uuid.UUID, *, limit: int | None = None) -> list[RowError]:
        query = select(import_errors.c.line, import_errors.c.field, import_errors.c.message).where(import_errors.c.job_id == job_id)
        query = query.order_by(import_errors.c.line, import_errors.c.rule).limit(limit)
        async with self.sessions() as session:
            return [RowError(r.line, r.field, r.message) for r in (await session.execute(query)).all()]

    def error_rows(self, job_id: uuid.UUID) -> AsyncIterator[Sequence[Any]]:
        query = select(import_errors.c.line, import_errors.c.field, import_errors.c.message).where(import_errors.c.job_id == job_id)
        return streamed_rows(self.engine, query.order_by(import_errors.c.line, import_errors.c.rule))


def _noun(kind: ImportKind) -> str:
    return "registry" if kind == ImportKind.STUDENTS else "scores"
