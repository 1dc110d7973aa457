"""Registry import benchmark of the eligibility service (figures, not a test; issue 15 point 4).

    . .local/env && uv run python bench/registry_import.py [--rows 1000000] [--seed 4000000]

Needs PG_ADMIN_URL. In a throw-away database migrated with eligibility's Alembic history it
  1. writes a `--rows`-row registry file (CSV, as a school's system exports it) to a temporary file;
  2. the yardstick: a plain COPY of that file into an unindexed table of text columns;
  3. seeds `--seed` students straight in SQL (generate_series: the registry already on file);
  4. imports the file through the service's own path: `receive_file` (the api's part: the file
     streamed in 1 MiB chunks, COPY to staging) and the worker's steps (`claim`, then `step` until
     done: the rules in SQL a batch of lines per statement, then INSERT … ON CONFLICT batches);
  5. meanwhile another process (as the api is) runs the qualification query (`find_candidate`,
     the query behind POST /qualification/query) for random seeded students, about 150 a second.
Printed: the load average with every figure, the yardstick, each phase's seconds, the total and
its ratio to the yardstick, the query's count / p50 / p99 / max during the import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import func, select, text

from cet_shared.db import create_engine
from cet_shared.testing import throwaway_database
from eligibility.bootstrap import EligibilityContainer, bootstrap
from eligibility.cli import migrate
from eligibility.db.tables import students
from eligibility.domain.import_jobs import ImportKind
from eligibility.domain.imports import STUDENT_COLUMNS
from eligibility.service.import_jobs import receive_file
from eligibility.service.registry import find_candidate
from eligibility.settings import EligibilitySettings

# 20 provinces × 50 schools; resident ID numbers would need a checksum each, so 港澳通行证 numbers.
_ROW = "{p},省{p},{p}{s:03d},学校{p}{s:03d},{p}{s:03d}0,校区,是,港澳居民来往内地通行证,H{n:09d},考生{n},女,本科,4,2016,16,化学学院,化学,1,{n:09d},,1;F,否\n"


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(STUDENT_COLUMNS) + "\n")
        for start in range(0, rows, 100_000):
            out.write("".join(_ROW.format(p=11 + n % 20, s=n % 50, n=n) for n in range(start, min(rows, start + 100_000))))


async def chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


async def yardstick(ctx: EligibilityContainer, path: Path) -> float:
    """The same file by a plain COPY into an unindexed table: what PostgreSQL alone costs."""
    async with ctx.import_engine.begin() as connection:  # the import's own long statement timeout
        await connection.execute(text(f"CREATE UNLOGGED TABLE bench_yardstick ({', '.join(f'{c} text' for c in STUDENT_COLUMNS)})"))
        driver = (await connection.get_raw_connection()).driver_connection
        started = time.perf_counter()
        await driver.copy_to_table("bench_yardstick", source=str(path), format="csv", header=True)
        elapsed = time.perf_counter() - started
        await connection.execute(text("DROP TABLE bench_yardstick"))
    return elapsed


async def seed(url: str, rows: int) -> None:
    engine = create_engine(url, pool_size=1, command_timeout=3600)  # millions of rows in one statement
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO provinces (code, name) VALUES ('99', '种子省')"))
        await connection.execute(text("INSERT INTO schools (code, province_code, name) VALUES ('99101', '99', '种子学校')"))
        await connection.execute(text("INSERT INTO campuses (code, school_code, name) VALUES ('991010', '99101', '种子校区')"))
        await connection.execute(
            text(
                "INSERT INTO students (id, id_type, id_number, name, gender, school_code, campus_code, qualification_subjects) "
                "SELECT gen_random_uuid(), 'hk_macao_pass', 'S' || lpad(g::text, 9, '0'), '种子' || g, '男', '99101', '991010', ARRAY['1'] "
                "FROM generate_series(1, :n) g"
            ),
            {"n": rows},
        )
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE students"))
    await engine.dispose()


async def query_loop(url: str, seeded: int) -> None:
    """The candidates' side, in its own process (as the api is): queries until stdin closes."""
    ctx = bootstrap(_settings(url))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
    rng, latencies = random.Random(15), []
    while not stop.is_set():
        n = rng.randint(1, seeded)
        started = time.perf_counter()
        async with ctx.unit_of_work() as uow:
            found = await find_candidate(uow.registry, id_type="hk_macao_pass", id_number=f"S{n:09d}", name=f"种子{n}")
        latencies.append((time.perf_counter() - started) * 1000)
        assert found is not None, n
        await asyncio.sleep(0.005)  # about 150 queries/s from one client
    await ctx.close()
    print(json.dumps({"count": len(latencies), "p50": statistics.median(latencies), "p99": percentile(latencies, 0.99), "max": max(latencies)}))


def _settings(url: str) -> EligibilitySettings:
    return EligibilitySettings(database_url=url, captcha_secret="bench-only-captcha-secret-0123456789", environment="test")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) >= 2 else (values[0] if values else 0.0)


async def run_import(ctx: EligibilityContainer, path: Path) -> dict[str, float]:
    """The api's receive, then the worker's steps; the seconds of each phase."""
    jobs, pace, times = ctx.unit_of_work().imports, ctx.import_pace(), {}
    started = time.perf_counter()
    job, _ = await receive_file(jobs, ctx.clock, ImportKind.STUDENTS, chunks(path), scope=None, max_bytes=ctx.settings.max_import_bytes)
    times["receive + COPY to staging"] = time.perf_counter() - started
    claim = await jobs.claim(now=ctx.clock.now(), lease=pace.lease, only=job.id)
    assert claim is not None
    phase, mark = "check (SQL rules)", time.perf_counter()
    while True:
        current = await jobs.step(job.id, claim[1], now=ctx.clock.now(), lease=pace.lease, check_batch=pace.check_batch, merge_batch=pace.merge_batch)
        assert current is not None
        if current.status.value == "merging" and phase.startswith("check"):
            times[phase], phase, mark = time.perf_counter() - mark, "merge (INSERT … ON CONFLICT batches)", time.perf_counter()
        if current.status.finished:
            times[phase] = time.perf_counter() - mark
            assert current.status.value == "done" and current.error_count == 0, current
            break
    times["total"] = time.perf_counter() - started
    return times


async def main(args: argparse.Namespace) -> None:
    print(f"start: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.csv"
        write_file(path, args.rows)
        print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB")
        async with throwaway_database("bench_registry") as url:
            await asyncio.to_thread(migrate, url)
            ctx = bootstrap(_settings(url))
            try:
                copy_seconds = await yardstick(ctx, path)
                print(f"yardstick, plain COPY into an unindexed table: {copy_seconds:.1f} s ({load()})")
                started = time.perf_counter()
                if args.seed:
                    await seed(url, args.seed)
                print(f"seeded {args.seed:,} students in {time.perf_counter() - started:.1f} s ({load()})")
                queries = None
                if args.seed:
                    queries = await asyncio.create_subprocess_exec(
                        sys.executable, __file__, "--query-loop", url, "--seed", str(args.seed), stdin=PIPE, stdout=PIPE
                    )
                times = await run_import(ctx, path)
                at_end = load()
                figures = json.loads((await queries.communicate(b""))[0]) if queries else None
                async with ctx.sessions() as session:
                    total = await session.scalar(select(func.count()).select_from(students))
                for phase, seconds in times.items():
                    print(f"  {phase}: {seconds:.1f} s")
                print(f"import of {args.rows:,} rows: {times['total']:.1f} s = {args.rows / times['total']:,.0f} rows/s, "
                      f"{times['total'] / copy_seconds:.1f} × the yardstick ({at_end})")  # fmt: skip
                if figures:
                    print(f"qualification query during the import ({args.seed:,} → {total:,} registry rows): {figures['count']} queries, "
                          f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.1f} ms")  # fmt: skip
                assert total == args.seed + args.rows, total
            finally:
                await ctx.close()
    print(f"end: {load()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=4_000_000)
    parser.add_argument("--query-loop", metavar="URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    asyncio.run(query_loop(arguments.query_loop, arguments.seed) if arguments.query_loop else main(arguments))
