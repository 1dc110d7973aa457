"""Arrangement (编排, N13) benchmark of the enrolment service (figures, not a test; issue 15 point 5).

    . .local/env && uv run python bench/arrangement.py [--written 1000000] [--orals 100000] [--campuses 200] [--batch 10000]

Needs PG_ADMIN_URL (`make infra-up`). In a throw-away database migrated with enrolment's Alembic
history it seeds, straight in SQL, one closed exam session, `--campuses` campuses offering 英语四级笔试
(1) and 英语四级口试 (F), one registration per written subject, `--written` paid written subjects
and `--orals` paid orals (payment times all distinct). Then, in this order:

1. the yardstick: a plain INSERT … SELECT of as many rows as there are paid subjects (id, room,
   seat, ticket number, time) into an unindexed table — what writing that much costs on this
   machine right now, so the arrangement reads as a ratio;
2. EXPLAIN ANALYZE of the freeze and of one batch, each rolled back (the plans, and where the time goes);
3. the arrangement through the service's own path: `request_arrangement` and the worker's
   `run_arrangements` (freeze + batches), timed;
4. the export (`/exports/arrangement`'s rows through `cet_shared.csv_export`) streamed to nowhere.

Printed: each time, subjects/s, the ratio to the yardstick, whether every subject got one seat and
one ticket number, and the load average (1, 5, 15 min) before, after the arrangement and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cet_shared.csv_export import csv_chunks
from cet_shared.db import create_engine
from cet_shared.staff_scope import ReadScope
from cet_shared.testing import throwaway_database
from enrolment.bootstrap import bootstrap
from enrolment.cli import migrate
from enrolment.db import arrangement_store
from enrolment.service import arrangement_job
from enrolment.service.exports import EXPORTS, ExportFilter, export_rows
from enrolment.settings import EnrolmentSettings

_SEED = (
    """INSERT INTO exam_sessions (id, name, year, half, registration_opens_at, registration_closes_at, published_at)
       VALUES (:session, '2017年下半年CET考试', 2017, 2, :opens, :closes, :opens)""",
    """INSERT INTO offerings (id, exam_session_id, subject_code, province_code, school_code, school_name, campus_code, campus_name, fee_fen)
       SELECT gen_random_uuid(), :session, s.code, '99', '99' || lpad(c::text, 3, '0'), '学校' || c, '99' || lpad(c::text, 3, '0') || '0', '校区', 3000
       FROM generate_series(0, :campuses - 1) c CROSS JOIN (VALUES ('1'), ('F')) s(code)""",
    """INSERT INTO registrations (registration_id, exam_session_id, passport_id, snapshot, province_code, school_code, campus_code, qualification_subjects, bound_at)
       SELECT gen_random_uuid(), :session, 'P' || g, jsonb_build_object('name', '考生' || g, 'id_number', '33010119900101' || lpad((g % 10000)::text, 4, '0')),
              '99', '99' || lpad((g % :campuses)::text, 3, '0'), '99' || lpad((g % :campuses)::text, 3, '0') || '0', ARRAY['1', 'F'], :opens
       FROM generate_series(1, :written) g""",
    """INSERT INTO enrolments (id, registration_id, exam_session_id, offering_id, subject_code, kind, level, fee_fen, status, seat_held, enrolled_at, expires_at, paid_at)
       SELECT gen_random_uuid(), r.registration_id, :session, o.id, o.subject_code, CASE o.subject_code WHEN '1' THEN 'written' ELSE 'oral' END,
              4, 3000, 'paid', true, :opens, CAST(:opens AS timestamptz) + interval '1 day',
              CAST(:opens AS timestamptz) + (row_number() OVER ()) * interval '1 millisecond'
       FROM (SELECT registration_id, campus_code, row_number() OVER (ORDER BY passport_id) AS n FROM registrations) r
       JOIN offerings o ON o.campus_code = r.campus_code AND (o.subject_code = '1' OR (o.subject_code = 'F' AND r.n <= :orals))""",
)
_YARDSTICK = (
    "CREATE TABLE yardstick (id uuid, room integer, seat integer, ticket_number text, at timestamptz)",
    "INSERT INTO yardstick SELECT id, 1, 1, 'T' || right(id::text, 14), now() FROM enrolments WHERE status = 'paid'",
)
_BATCH = "UPDATE enrolments e SET room = q.room, seat = q.seat, ticket_number = q.ticket_number, arranged_at = now() FROM arrangement_queue q WHERE q.job_id = :job AND q.ordinal BETWEEN 1 AND :batch AND e.id = q.enrolment_id AND e.status = 'paid' AND e.arranged_at IS NULL"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


async def timed(connection, sql: str, params: dict | None = None) -> float:
    started = time.perf_counter()
    await connection.execute(text(sql), params or {})
    return time.perf_counter() - started


async def explain(engine: AsyncEngine, session_id: uuid.UUID, batch: int) -> None:
    """EXPLAIN ANALYZE of one freeze statement (the first 20 offerings) and of the first batch, rolled back."""
    job_id = uuid.uuid4()
    async with engine.connect() as connection:
        transaction = await connection.begin()
        now = datetime.now(UTC)
        await connection.execute(
            text(
                "INSERT INTO arrangement_jobs (id, exam_session_id, requested_by, status, created_at, updated_at) VALUES (:id, :s, 'bench', 'queued', :now, :now)"
            ),
            {"id": job_id, "s": session_id, "now": now},
        )
        freeze = arrangement_store._FREEZE  # the service's own statement
        ids = [i for (i,) in await connection.execute(text("SELECT id FROM offerings ORDER BY campus_code, subject_code LIMIT 20"))]
        params = {"job": job_id, "offerings": ids, "after": 0, "per_room": 30, "year": 2017, "half": "2"}
        steps = (("freeze of 20 offerings", freeze, params), (f"one batch of {batch:,}", text(_BATCH), {"job": job_id, "batch": batch}))
        for label, statement, values in steps:
            explained = text(f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) {statement.text}").bindparams(*statement._bindparams.values())
            plan = [row[0] for row in await connection.execute(explained, values)]
            print(f"--- EXPLAIN ANALYZE {label}")
            for line in plan:
                if any(word in line for word in ("Insert", "Update", "Scan", "Join", "Sort", "WindowAgg", "Loop", "Execution Time", "Trigger")):
                    print("   ", line.strip()[:150])
        await transaction.rollback()


async def main(args: argparse.Namespace) -> None:
    print(f"load average before: {load()}  (cores: {os.cpu_count()})")
    async with throwaway_database("bench_arrangement") as url:
        await asyncio.to_thread(migrate, url)
        settings = EnrolmentSettings(database_url=url, environment="test", arrangement_batch=args.batch)
        ctx = bootstrap(settings)
        # The seed, the yardstick and EXPLAIN run longer than a request's 6 s statement timeout.
        admin = create_engine(url, pool_size=1, max_overflow=0, application_name="bench", command_timeout=1800)
        session_id = uuid.uuid4()
        opens = datetime.now(UTC) - timedelta(days=20)
        params = {
            "session": session_id,
            "opens": opens,
            "closes": opens + timedelta(days=10),
            "campuses": args.campuses,
            "written": args.written,
            "orals": args.orals,
        }
        subjects = args.written + args.orals
        try:
            started = time.perf_counter()
            async with admin.begin() as connection:
                for statement in _SEED:
                    await connection.execute(text(statement), params)
            async with admin.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE"))
                print(f"seeded {args.written:,} written + {args.orals:,} oral paid subjects in {time.perf_counter() - started:.1f} s")
                await connection.execute(text(_YARDSTICK[0]))
                yardstick = await timed(connection, _YARDSTICK[1])
                await connection.execute(text("DROP TABLE yardstick"))
                await connection.execute(text("CHECKPOINT"))
            print(
                f"yardstick: INSERT … SELECT of {subjects:,} rows into an unindexed table: {yardstick:.1f} s = {subjects / yardstick:,.0f} rows/s  (load {load()})"
            )
            if args.explain:
                await explain(admin, session_id, args.batch)

            started = time.perf_counter()
            await arrangement_job.request_arrangement(ctx.unit_of_work, ctx.clock, session_id, requested_by="bench")
            arranged = await arrangement_job.run_arrangements(ctx.unit_of_work, ctx.clock, arrangement_job.ArrangementRun.of(settings))
            took = time.perf_counter() - started
            print(
                f"ARRANGED {arranged:,} subjects in {took:.1f} s = {arranged / took:,.0f} subjects/s (batches of {args.batch:,}); "
                f"{took / yardstick:.1f}× the yardstick  (load {load()})"
            )
            started = time.perf_counter()
            size = 0
            rows = export_rows(ctx.engine, "arrangement", ReadScope(), ExportFilter(exam_session_id=session_id))
            async for chunk in csv_chunks(EXPORTS["arrangement"].header, rows):
                size += len(chunk)
            print(f"export: {size / 1e6:.0f} MB of CSV streamed in {time.perf_counter() - started:.1f} s")

            async with admin.connect() as connection:
                seated, tickets, seats = (
                    await connection.execute(
                        text("""SELECT count(*) FILTER (WHERE ticket_number IS NOT NULL), count(DISTINCT ticket_number),
                                       count(DISTINCT (offering_id, room, seat)) FROM enrolments WHERE status = 'paid'""")
                    )
                ).one()
            print(f"paid subjects with a ticket number: {seated:,}, distinct ticket numbers: {tickets:,}, distinct seats: {seats:,}")
            assert seated == tickets == seats == subjects == arranged, "every paid subject one seat, no seat twice"
        finally:
            await admin.dispose()
            await ctx.close()
    print(f"load average after: {load()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--written", type=int, default=1_000_000)
    parser.add_argument("--orals", type=int, default=100_000)
    parser.add_argument("--campuses", type=int, default=200)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    asyncio.run(main(parser.parse_args()))
