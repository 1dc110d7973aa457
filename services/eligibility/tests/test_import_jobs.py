"""E13 (and E10) at national scale: an import is a background job — resumed after a dead worker
without a row twice, one job per content, progress to read, errors named by the file's own lines
and downloadable (CSV, UTF-8 with BOM), scoped and audited like the registry routes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from cet_shared.audit import audit_log
from cet_shared.testing import wait_for
from eligibility.db.import_tables import import_jobs, import_student_rows
from eligibility.db.tables import students
from eligibility.domain.imports import STUDENT_COLUMNS
from eligibility.service.import_jobs import ImportPace, run_queued_imports
from eligibility.service.registry import find_candidate

ASYNC = {"content-type": "text/csv", "prefer": "respond-async"}
ROW = "99,测试省,99101,测试学校,991010,99101-0校区,是,港澳居民来往内地通行证,{id_number},考生{n},女,本科,4,16,11,{department},化学,1,{n:05d},,1,否"
PACE = ImportPace(check_batch=1000, merge_batch=10, lease=timedelta(minutes=2))


def registry_file(rows: int, department: str = "化学学院") -> bytes:
    lines = [",".join(STUDENT_COLUMNS), *(ROW.format(id_number=f"H{n:08d}", n=n, department=department) for n in range(rows))]
    return ("\n".join(lines) + "\n").encode()


async def scalar(ctx, query):
    async with ctx.sessions() as session:
        return await session.scalar(query)


async def job_of(ctx):
    async with ctx.sessions() as session:
        return (await session.execute(select(import_jobs))).one()


def run(ctx, *, max_steps: int | None = None):
    """One worker's periodic run."""
    return run_queued_imports(ctx.unit_of_work().imports, ctx.clock, PACE, max_steps=max_steps)


async def _backend_waiting_on_lock(ctx) -> int | None:
    async with ctx.engine.connect() as connection:
        return await connection.scalar(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO students%'")
        )


async def test_e13_a_worker_killed_mid_merge_is_resumed_by_another_without_duplicates(ctx, client, tokens):
    response = await client.post("/registry/students", content=registry_file(35), headers={**tokens.headers(None, "ops"), **ASYNC})
    assert response.status_code == 202 and response.headers["location"] == f"imports/{response.json()['job']['id']}"
    assert response.json()["job"]["status"] == "queued" and response.json()["job"]["rows_read"] == 35

    # Worker A checks the file, commits one merge batch of 10 and dies (its lease still held).
    assert await run(ctx, max_steps=3) == 10
    # Worker B finds nothing to claim while A's lease runs: two workers never run one job.
    assert await run(ctx) == 0

    # Worker C, after the lease ran out, dies in the middle of a batch: its connection is killed
    # while the batch waits on a row a candidate's transaction holds (line 22, the 21st row).
    ctx.clock.advance(PACE.lease + timedelta(seconds=1))
    async with ctx.engine.connect() as holder:
        await holder.execute(text("BEGIN"))
        await holder.execute(
            text(
                "INSERT INTO students (id, id_type, id_number, name, gender, school_code, campus_code, qualification_subjects) "
                "SELECT gen_random_uuid(), 'hk_macao_pass', 'H00000020', '考生20', '女', '99101', '991010', ARRAY['1']"
            )
        )
        worker = asyncio.create_task(run(ctx))
        blocked = await wait_for(lambda: _backend_waiting_on_lock(ctx), timeout=20, what="the batch waiting on the held row")
        # Candidates keep working meanwhile: the registry answers for a student already merged.
        async with ctx.unit_of_work() as uow:
            assert await find_candidate(uow.registry, id_type="hk_macao_pass", id_number="H00000003", name="考生3") is not None
        await holder.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": blocked})
        with pytest.raises(Exception):  # noqa: B017 - the driver's own "connection closed" error
            await worker
        await holder.execute(text("ROLLBACK"))
    job = await job_of(ctx)
    assert (job.status, job.rows_merged, job.merged_through) == ("merging", 20, 21), "the killed batch left nothing"

    # Worker D resumes after the last committed batch once the lease has passed.
    ctx.clock.advance(PACE.lease + timedelta(seconds=1))
    assert await run(ctx) == 15
    job = await job_of(ctx)
    assert (job.status, job.rows_merged, job.rows_created) == ("done", 35, 35)
    assert await scalar(ctx, select(func.count()).select_from(students)) == 35
    assert await scalar(ctx, select(func.count()).select_from(import_student_rows)) == 0, "staging is emptied"


async def test_e13_progress_is_readable_while_the_job_runs(ctx, client, tokens):
    ops = tokens.headers(None, "ops")
    job_id = (await client.post("/registry/students", content=registry_file(30), headers={**ops, **ASYNC})).json()["job"]["id"]
    await run(ctx, max_steps=3)  # checked, one batch of 10 merged
    view = (await client.get(f"/registry/imports/{job_id}", headers=ops)).json()
    assert (view["status"], view["rows_read"], view["rows_valid"], view["rows_merged"], view["error_count"]) == ("merging", 30, 30, 10, 0)
    assert 0.5 < view["progress"] < 1
    ctx.clock.advance(PACE.lease + timedelta(seconds=1))
    await run(ctx)
    done = (await client.get(f"/registry/imports/{job_id}", headers=ops)).json()
    assert (done["status"], done["rows_merged"], done["created"], done["progress"]) == ("done", 30, 30, 1.0)
    listed = (await client.get("/registry/imports", headers=ops)).json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]


async def test_e13_the_same_content_twice_is_one_job(ctx, client, tokens):
    ops = {**tokens.headers(None, "ops"), **ASYNC}
    body = registry_file(5)
    first, second = await asyncio.gather(
        client.post("/registry/students", content=body, headers=ops), client.post("/registry/students", content=body, headers=ops)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 202]
    assert first.headers["location"] == second.headers["location"]
    await run(ctx)
    third = await client.post("/registry/students", content=body, headers=ops)
    assert third.status_code == 200 and third.json()["job"]["status"] == "done" and third.headers["location"] == first.headers["location"]
    await run(ctx)
    assert await scalar(ctx, select(func.count()).select_from(import_jobs)) == 1
    assert (await job_of(ctx)).rows_merged == 5, "merged once"
    # Other content (another department) is another job.
    other = await client.post("/registry/students", content=registry_file(5, "物理学院"), headers=ops)
    assert other.status_code == 202 and other.headers["location"] != first.headers["location"]


async def test_e13_errors_name_the_line_of_the_file_even_after_quoted_newlines_and_blank_lines(ctx, client, tokens):
    ops = tokens.headers(None, "ops")
    good = registry_file(3).decode().splitlines()
    # line 2: a remark spanning two lines (quoted); line 4 blank; line 5 a bad gender; line 6 a repeat of line 2's ID.
    multiline = good[1].replace(",1,否", ',"第一行\n第二行",1,否').replace("00000,,", "00000,")
    lines = [good[0], multiline, "", good[2].replace(",女,", ",未知,"), good[1].replace('"', "")]
    response = await client.post("/registry/students", content=("\n".join(lines) + "\n").encode(), headers={**ops, **ASYNC})
    assert response.status_code == 202
    await run(ctx)
    view = (await client.get(f"/registry/{response.headers['location']}", headers=ops)).json()
    assert (view["status"], view["rows_read"], view["rows_valid"], view["error_count"]) == ("rejected", 3, 1, 2)
    assert [(e["row"], e["field"]) for e in view["errors"]] == [(5, "gender"), (6, "id_number")]
    assert view["errors"][1]["message"] == "与第2行的证件重复"
    assert await scalar(ctx, select(func.count()).select_from(students)) == 0
    report = await client.get(f"/registry/imports/{view['id']}/errors.csv", headers=ops)
    assert report.headers["content-type"].startswith("text/csv") and report.content.startswith("\ufeff".encode())
    assert report.content.decode("utf-8-sig").splitlines() == ["行号,字段,原因", "5,gender,性别应为 男 或 女", "6,id_number,与第2行的证件重复"]


async def test_e13_an_error_on_the_last_line_of_a_big_file_leaves_nothing_staged_or_imported(ctx, client, tokens):
    # Several mebibytes: rows were already copied to staging when the bad last line arrives.
    body = registry_file(40_000) + ROW.format(id_number="H99999999", n=99, department="化学学院").replace(",女,", ",?,").encode()
    ops = tokens.headers(None, "ops")
    response = await client.post("/registry/students", content=body, headers={**ops, **ASYNC})
    assert response.status_code == 202 and response.json()["job"]["rows_read"] == 40_001
    await run(ctx)
    view = (await client.get(f"/registry/imports/{response.json()['job']['id']}", headers=ops)).json()
    assert (view["status"], view["rows_read"], view["rows_valid"], view["error_count"]) == ("rejected", 40_001, 40_000, 1)
    assert view["errors"] == [{"row": 40_002, "field": "gender", "message": "性别应为 男 或 女"}]
    assert await scalar(ctx, select(func.count()).select_from(import_student_rows)) == 0
    assert await scalar(ctx, select(func.count()).select_from(students)) == 0


async def test_e13_a_teacher_sees_only_their_schools_jobs_and_both_steps_are_audited_as_theirs(ctx, client, tokens):
    teacher_id = "TEACHER99101"
    teacher = tokens.headers(teacher_id, "teacher", school_code="99101")
    other = tokens.headers(None, "teacher", school_code="99301")
    response = await client.post("/registry/students", content=registry_file(3), headers={**teacher, **ASYNC})
    assert response.status_code == 202 and response.json()["job"]["school_code"] == "99101"
    job_id = response.json()["job"]["id"]
    assert (await client.get(f"/registry/imports/{job_id}", headers=other)).status_code == 404
    assert (await client.get(f"/registry/imports/{job_id}/errors.csv", headers=other)).status_code == 404
    assert (await client.get("/registry/imports", headers=other)).json()["jobs"] == []
    assert (await client.get(f"/registry/imports/{job_id}", headers=tokens.headers(None, "candidate"))).status_code == 403
    await run(ctx)  # the worker acts, recorded as the teacher who asked
    async with ctx.sessions() as session:
        rows = (await session.execute(select(audit_log.c.kind, audit_log.c.actor_id, audit_log.c.school_code).order_by(audit_log.c.id))).all()
    assert [tuple(r) for r in rows] == [("registry.import_received", teacher_id, "99101"), ("registry.imported", teacher_id, "99101")]


async def test_e13_an_upload_whose_api_process_died_is_forgotten_with_its_staged_rows(ctx, client, tokens):
    # An api process killed mid-upload leaves its job receiving and the rows it had copied.
    async with ctx.engine.begin() as connection:
        job_id = await connection.scalar(
            text(
                "INSERT INTO import_jobs (id, kind, scope, requested_by, requested_role, status, created_at, updated_at) "
                "VALUES (gen_random_uuid(), 'students', '', 'ops', 'ops', 'receiving', :at, :at) RETURNING id"
            ),
            {"at": ctx.clock.now()},
        )
        cells = ", ".join("''" for _ in STUDENT_COLUMNS)
        await connection.execute(text(f"INSERT INTO import_student_rows SELECT :job, g, {cells} FROM generate_series(2, 11) g"), {"job": job_id})
    await run(ctx)
    assert await scalar(ctx, select(func.count()).select_from(import_jobs)) == 1, "a day is not over: it may still be arriving"
    ctx.clock.advance(PACE.abandoned_after + timedelta(seconds=1))
    await run(ctx)
    assert await scalar(ctx, select(func.count()).select_from(import_jobs)) == 0
    assert await scalar(ctx, select(func.count()).select_from(import_student_rows)) == 0
