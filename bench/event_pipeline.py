"""The event pipeline of a hold, measured alone: outbox → relay → Kafka → the real consumers.

    uv run python bench/event_pipeline.py [--events 3000] [--rate 400] [--profile DIR]

Needs `make infra-up` (reads .local/env). In three throwaway databases migrated by the services'
own `<svc>-admin migrate`, it starts the real `enrolment-worker` (its relay publishes the outbox),
`eligibility-worker` and `payment-worker` as processes on this run's own topic prefix, then writes
`--events` SubjectEnrolled outbox rows at `--rate` per second, each in its own transaction, as a
hold writes them (the envelope and the trace headers in `outbox`, keyed by registration), and
waits until every event's effect exists (payment's projection of the hold, `EffectWatcher`) and
every worker is idle again. Printed: CPU ms per event of each worker, Kafka and PostgreSQL (from
/proc, minus each one's idle rate measured before), events/s, outbox → effect p50/p99/max, lost
and applied twice, and the load average. `--profile DIR`: py-spy records each worker
(`uv tool install py-spy`), one flame graph per process in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from event_latency import EffectWatcher, load_env
from peak_procs import Processes, cpu_delta

from cet_shared.events.contracts import SubjectEnrolled
from cet_shared.events.envelope import EventEnvelope
from cet_shared.testing import throwaway_database, unique_topic_prefix

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"  # --checkout: another checkout's workers (the code before a change), same infrastructure
WORKERS = ("enrolment", "eligibility", "payment")
IDLE_SECONDS = 4.0

_INSERT = "INSERT INTO outbox (event_id, topic, key, event_type, envelope, headers) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)"


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(plain(url))
    try:
        yield connection
    finally:
        await connection.close()


async def migrate(service: str, url: str) -> None:
    env = {**os.environ, f"DATABASE_URL_{service.upper()}": url, "CET_ENV": "test"}
    proc = await asyncio.create_subprocess_exec(str(BIN / f"{service}-admin"), "migrate", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{service}-admin migrate failed:\n{out.decode(errors='replace')}")


async def start_worker(service: str, urls: dict[str, str], prefix: str, logs: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL_")}
    env.update({f"DATABASE_URL_{name.upper()}": url for name, url in urls.items()})
    env.update(CET_ENV="test", PYTHONUNBUFFERED="1", KAFKA_TOPIC_PREFIX=prefix, WORKER_INSTANCE_ID=f"bench-{prefix}{service}", DB_POOL_SIZE="5")
    log = (logs / f"{service}-worker.log").open("wb")
    proc = await asyncio.create_subprocess_exec(str(BIN / f"{service}-worker"), env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while b"worker running" not in (logs / f"{service}-worker.log").read_bytes():
        if proc.returncode is not None or time.monotonic() > deadline:
            raise SystemExit(f"{service}-worker did not start:\n{(logs / f'{service}-worker.log').read_text()[-3000:]}")
        await asyncio.sleep(0.2)
    return proc


def outbox_row(registration_id: uuid.UUID) -> tuple:
    now = datetime.now(UTC)
    event = SubjectEnrolled(
        enrolment_id=uuid.uuid4(),
        registration_id=registration_id,
        passport_id=uuid.uuid4().hex,
        subject_code="1",
        subject_name="英语四级笔试",
        campus_code="991010",
        fee_fen=3000,
        expires_at=now + timedelta(hours=24),
    )
    envelope = EventEnvelope.wrap(event, key=str(registration_id), producer="enrolment", occurred_at=now)  # stamped when written
    headers = {"traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"}  # a sampled request's context, as a hold carries
    return (envelope.event_id, event.topic, str(registration_id), event.event_type, envelope.model_dump_json(), json.dumps(headers))


async def write(pool: asyncpg.Pool, registration_ids: list[uuid.UUID], rate: float) -> tuple[list[tuple], float]:
    """One row per registration at `rate`, each built (its occurred_at) when its turn comes."""
    started = time.perf_counter()
    rows: list[tuple] = []

    async def one(row: tuple) -> None:
        async with pool.acquire() as connection:
            await connection.execute(_INSERT, *row)

    tasks = []
    for n, registration_id in enumerate(registration_ids):
        rows.append(outbox_row(registration_id))
        tasks.append(asyncio.create_task(one(rows[-1])))
        await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
    await asyncio.gather(*tasks)
    return rows, time.perf_counter() - started


async def drained(urls: dict[str, str], watcher: EffectWatcher, total: int, deadline_s: float = 180) -> bool:
    """Every effect seen, the outbox published, and no consumer's inbox growing for a second."""
    connections = {name: await asyncpg.connect(plain(url)) for name, url in urls.items()}
    last: tuple = ()
    steady_since = time.monotonic()
    started = time.monotonic()
    try:
        while time.monotonic() - started < deadline_s:
            unpublished = await connections["enrolment"].fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            inboxes = tuple([await connections[name].fetchval("SELECT count(*) FROM inbox") for name in ("eligibility", "payment")])
            if inboxes != last:
                last, steady_since = inboxes, time.monotonic()
            if unpublished == 0 and len(watcher.seen) >= total and time.monotonic() - steady_since > 1.0:
                return True
            await asyncio.sleep(0.1)
        return False
    finally:
        for connection in connections.values():
            await connection.close()


async def main(events: int, rate: float, profile: Path | None) -> int:
    logs = REPO / ".local" / "bench" / "event_pipeline"
    logs.mkdir(parents=True, exist_ok=True)
    async with throwaway_database("pl_enrol") as enrolment, throwaway_database("pl_elig") as eligibility, throwaway_database("pl_pay") as payment:
        urls = {"enrolment": enrolment, "eligibility": eligibility, "payment": payment}
        await asyncio.gather(*(migrate(name, url) for name, url in urls.items()))
        prefix = unique_topic_prefix()
        keys = logs / "payment-keys"  # payment's worker loads its gateways' keys at start
        subprocess.run([str(BIN / "payment-admin"), "make-test-keys", "--dir", str(keys)], check=True, capture_output=True)
        os.environ.update(
            ALIPAY_APP_PRIVATE_KEY_FILE=str(keys / "app_private_key.pem"),
            ALIPAY_PUBLIC_KEY_FILE=str(keys / "app_public_key.pem"),  # the worker verifies no notification
            PAYEASE_KEY_FILE=str(keys / "payease_key"),
        )
        workers: dict[str, asyncio.subprocess.Process] = {}
        spies: list[subprocess.Popen] = []
        pool = await asyncpg.create_pool(plain(enrolment), min_size=8, max_size=8)
        try:
            for name in WORKERS:
                workers[name] = await start_worker(name, urls, prefix, logs)
            processes = Processes()
            for name, proc in workers.items():
                processes.add(f"{name}-worker", proc.pid)
            var = REPO / ".local"
            processes.add("kafka", int((var / "run" / "kafka.pid").read_text().split()[0]))
            processes.add("postgresql", int((var / "pg" / "data" / "postmaster.pid").read_text().split()[0]))
            # Warm-up: the groups own their partitions, the first statements are prepared.
            warm = [uuid.uuid4() for _ in range(20)]
            warm_watch = EffectWatcher(payment, enrolment)
            watching = asyncio.create_task(warm_watch.run(warm))
            await write(pool, warm, 50)
            if not await drained(urls, warm_watch, len(warm), deadline_s=90):
                raise SystemExit(f"warm-up events never reached payment; logs in {logs}")
            warm_watch.stop()
            await watching

            idle_before = processes.sample()
            await asyncio.sleep(IDLE_SECONDS)
            idle = {name: cpu / IDLE_SECONDS for name, cpu in cpu_delta(idle_before, processes.sample()).items()}

            registration_ids = [uuid.uuid4() for _ in range(events)]
            watcher = EffectWatcher(payment, enrolment)
            watching = asyncio.create_task(watcher.run(registration_ids))
            if profile:
                profile.mkdir(parents=True, exist_ok=True)
                spy = shutil.which("py-spy") or sys.exit("py-spy not found: uv tool install py-spy")
                for name, proc in workers.items():
                    command = [spy, "record", "--pid", str(proc.pid), "--rate", "200", "--format", "speedscope", "-o", str(profile / f"{name}.json")]
                    spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            before, started, load_before = processes.sample(), time.perf_counter(), os.getloadavg()
            rows, write_seconds = await write(pool, registration_ids, rate)
            complete = await drained(urls, watcher, events)
            seconds = time.perf_counter() - started
            after = processes.sample()
            watcher.stop()
            await watching
        finally:
            for spy_proc in spies:
                spy_proc.send_signal(2)  # SIGINT: py-spy writes its file
                spy_proc.wait(timeout=60)
            await pool.close()
            for proc in workers.values():
                if proc.returncode is None:
                    proc.terminate()
            try:
                await asyncio.wait_for(asyncio.gather(*(proc.wait() for proc in workers.values())), timeout=30)
            except TimeoutError:
                for proc in workers.values():
                    if proc.returncode is None:
                        proc.kill()

        async with connected(enrolment) as connection:
            published = dict(
                await connection.fetch(
                    "SELECT event_id, extract(epoch FROM published_at)::float8 FROM outbox WHERE event_id = ANY($1::uuid[])", [r[0] for r in rows]
                )
            )
        async with connected(payment) as connection:
            processed = dict(
                await connection.fetch(
                    "SELECT event_id, extract(epoch FROM processed_at)::float8 FROM inbox WHERE event_id = ANY($1::uuid[])", [r[0] for r in rows]
                )
            )
            effects = await connection.fetchval("SELECT count(*) FROM enrolments WHERE registration_id = ANY($1::uuid[])", [uuid.UUID(r[2]) for r in rows])
            inbox = await connection.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", [r[0] for r in rows])

    figures = watcher.quantiles(set(watcher.seen))
    spent = cpu_delta(before, after)
    print(f"events {events} asked at {rate:.0f}/s, written in {write_seconds:.1f}s; drained {seconds:.1f}s after the first ({events / seconds:.0f} events/s)")
    print(f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} cores")
    print("CPU ms per event (idle rate subtracted):")
    for name, cpu in spent.items():
        print(f"  {name:20} {max(0.0, cpu - idle.get(name, 0.0) * seconds) * 1000 / events:6.3f}   (raw {cpu * 1000 / events:.3f})")
    pipeline = sum(max(0.0, cpu - idle.get(name, 0.0) * seconds) for name, cpu in spent.items() if name != "postgresql")
    print(f"  {'workers + kafka':20} {pipeline * 1000 / events:6.3f}")
    if figures.get("seen"):
        print(f"outbox → effect (payment's projection): p50 {figures['p50_ms']:.0f} ms  p99 {figures['p99_ms']:.0f} ms  max {figures['max_ms']:.0f} ms")
    occurred = {r[0]: json.loads(r[4])["occurred_at"] for r in rows}
    occurred_s = {k: datetime.fromisoformat(v).timestamp() for k, v in occurred.items()}
    relay = sorted(published[k] - occurred_s[k] for k in published)
    consume = sorted(processed[k] - published[k] for k in processed if k in published)
    for label, values in (("outbox → published (relay)", relay), ("published → payment's inbox", consume)):
        if values:
            print(f"{label:30} p50 {values[len(values) // 2] * 1000:.0f} ms  p99 {values[int(len(values) * 0.99) - 1] * 1000:.0f} ms")
    print(f"lost {events - effects}   applied twice {inbox - effects if inbox > effects else 0}   drained {'yes' if complete else 'NO'}")
    return 0 if complete and effects == events else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=400.0, help="outbox rows written per second (one transaction each)")
    parser.add_argument("--profile", type=Path, help="py-spy flame graphs of each worker into this folder")
    parser.add_argument("--checkout", type=Path, help="run the workers and migrations of another checkout (with its own .venv), e.g. the code before a change")
    args = parser.parse_args()
    load_env()
    if args.checkout:
        BIN = args.checkout.resolve() / ".venv" / "bin"
    if "PG_ADMIN_URL" not in os.environ:
        sys.exit("start the infrastructure first: make infra-up")
    sys.exit(asyncio.run(main(args.events, args.rate, args.profile)))
