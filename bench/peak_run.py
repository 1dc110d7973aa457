"""One step of the peak benchmark (bench/peak.py): a request list fired by the compiled load
generator (bench/loadgen), the suite drained, the CPU of every process, and the audits."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from event_latency import EffectWatcher
from peak_procs import Processes, cpu_delta, machine_cpu_seconds

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "deploy"))
from topology import load as load_topology  # noqa: E402 - deploy/topology.toml, the one declaration of the suite

LOADGEN_BIN = Path(os.environ.get("CET_TOOLS", Path.home() / ".cache" / "cet-suite" / "bin")) / "cet-loadgen"
GATEWAY = f"http://127.0.0.1:{load_topology().gateway_port}"


def build_loadgen() -> Path:
    """`go build` into the tools folder (never committed); quick when nothing changed."""
    LOADGEN_BIN.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(LOADGEN_BIN), "."], cwd=BENCH / "loadgen", check=True)
    return LOADGEN_BIN


def pg_url(name: str) -> str:
    return os.environ[f"DATABASE_URL_{name.upper()}"].replace("postgresql+asyncpg://", "postgresql://", 1)


@dataclass
class Request:
    kind: str
    method: str
    path: str
    token: str = ""
    body: dict | None = None
    registration_id: uuid.UUID | None = None  # whose event the watcher waits for (holds)

    def line(self) -> str:
        return "\t".join([self.kind, self.method, self.path, self.token, json.dumps(self.body, separators=(",", ":")) if self.body else ""])


@dataclass
class Step:
    label: str  # e.g. "enrolment (a) open 50 %"
    contender: str  # enrolment | bare | passport | mix
    mode: str  # closed | open
    offered: float  # requests/s asked (open loop), 0 for closed
    summary: dict
    cpu_s: dict[str, float]
    peak_rss_kib: dict[str, int]
    machine_cpu_s: float
    drained_s: float
    window_s: float  # from the first sample to the last (load and drain)
    effect: dict = field(default_factory=dict)
    oversold: int | None = None
    lost: int | None = None
    ok_ids: dict[str, set[str]] = field(default_factory=dict)  # kind -> ids answered 2xx

    def kind(self, name: str) -> dict:
        return self.summary["kinds"].get(name) or {
            "requests": 0,
            "per_second": 0,
            "ok": 0,
            "codes": {},
            "errors": {},
            "p50_ms": 0,
            "p99_ms": 0,
            "p999_ms": 0,
            "seconds": 0,
        }

    def ok_per_second(self, name: str) -> float:
        k = self.kind(name)
        return k["ok"] / k["seconds"] if k["seconds"] else 0.0

    def refusals_per_second(self, name: str, code: str = "seats_full") -> float:
        k = self.kind(name)
        return k["codes"].get(code, 0) / k["seconds"] if k["seconds"] else 0.0


async def _drain(holds: set[str], watcher: EffectWatcher | None, deadline_s: float = 90) -> float:
    """Until every hold's event is applied by eligibility and payment, and enrolment's outbox is
    published: the pipeline's CPU for this step's work is then in the sample."""
    started = time.monotonic()
    enrolment = await asyncpg.connect(pg_url("enrolment"))
    payment = await asyncpg.connect(pg_url("payment"))
    try:
        while time.monotonic() - started < deadline_s:
            unpublished = await enrolment.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            ids = [uuid.UUID(i) for i in holds]
            in_payment = await payment.fetchval("SELECT count(*) FROM enrolments WHERE enrolment_id = ANY($1::uuid[])", ids) if ids else 0
            in_eligibility = len(holds & set(watcher.seen)) if watcher else len(holds)
            if unpublished == 0 and in_payment == len(holds) and in_eligibility == len(holds):
                break
            await asyncio.sleep(0.1)
    finally:
        await enrolment.close()
        await payment.close()
    return time.monotonic() - started


async def run_step(
    label: str,
    contender: str,
    requests: list[Request],
    processes: Processes,
    *,
    conns: int,
    rate: float = 0.0,
    target: str = GATEWAY,
    watch: bool = False,
    log=print,
) -> Step:
    with tempfile.TemporaryDirectory(prefix="cet-peak-") as tmp:
        reqs, summary_file, results_file = Path(tmp) / "requests.tsv", Path(tmp) / "summary.json", Path(tmp) / "results.tsv"
        reqs.write_text("".join(r.line() + "\n" for r in requests))
        watcher = None
        watch_task = None
        if watch:
            watcher = EffectWatcher(pg_url("payment"), pg_url("enrolment"))
            registration_ids = sorted({r.registration_id for r in requests if r.registration_id})
            watch_task = asyncio.create_task(watcher.run(registration_ids))
        before, machine_before, window_start = processes.sample(), machine_cpu_seconds(), time.monotonic()
        command = [
            str(LOADGEN_BIN),
            "-target",
            target,
            "-requests",
            str(reqs),
            "-conns",
            str(conns),
            "-rate",
            str(rate),
            "-summary",
            str(summary_file),
            "-results",
            str(results_file),
        ]
        generator = await asyncio.create_subprocess_exec(*command)
        if await generator.wait() != 0:
            raise SystemExit(f"cet-loadgen failed ({label})")
        summary = json.loads(summary_file.read_text())
        ok_ids: dict[str, set[str]] = {}
        for line in results_file.read_text().splitlines():
            _, kind, status, _, _, answer_id = line.split("\t")
            if status in ("200", "201") and answer_id:
                ok_ids.setdefault(kind, set()).add(answer_id)
        holds = ok_ids.get("oral", set()) | ok_ids.get("written", set())
        drained = await _drain(holds, watcher) if contender != "bare" else 0.0
        after, machine_after, window = processes.sample(), machine_cpu_seconds(), time.monotonic() - window_start
        if watcher:
            watcher.stop()
            await watch_task
    cpu = cpu_delta(before, after)
    cpu["generator"] = summary["generator_cpu_ms"] / 1000
    rss = dict(after.peak_rss_kib)
    rss["generator"] = summary["generator_max_rss_kib"]
    step = Step(label, contender, "open" if rate else "closed", rate, summary, cpu, rss, machine_after - machine_before, drained, window, ok_ids=ok_ids)
    if watcher:
        step.effect = watcher.quantiles(holds)
    return step


async def idle_rates(processes: Processes, seconds: float) -> dict[str, float]:
    """CPU seconds per second of each process with no load: pollers, heartbeats, the relay's
    outbox poll, Kafka's own housekeeping. A step's figure above idle subtracts it."""
    before, started = processes.sample(), time.monotonic()
    await asyncio.sleep(seconds)
    after = processes.sample()
    elapsed = time.monotonic() - started
    return {name: delta / elapsed for name, delta in cpu_delta(before, after).items()}


async def audit_enrolment(step: Step, offering_id: uuid.UUID) -> None:
    """Oversold: seat-holding rows beyond the capacity, or a negative remaining; lost: the
    symmetric difference between the holds answered 201 and the rows holding a seat."""
    db = await asyncpg.connect(pg_url("enrolment"))
    try:
        capacity, remaining = await db.fetchrow("SELECT capacity, remaining FROM offerings WHERE id = $1", offering_id)
        rows = {str(r) for r in await db.fetchval("SELECT coalesce(array_agg(id), '{}') FROM enrolments WHERE offering_id = $1 AND seat_held", offering_id)}
    finally:
        await db.close()
    answered, taken = step.ok_ids.get("oral", set()), capacity - remaining
    # more holders than seats, a negative count, or more holders than the count says were taken
    step.oversold = max(0, len(rows) - capacity) + max(0, -remaining) + max(0, len(rows) - taken)
    # a hold answered but not kept (or kept but never answered), or a seat taken that nobody holds
    step.lost = len(rows ^ answered) + max(0, taken - len(rows))
