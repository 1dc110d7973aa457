"""Seat-grab benchmark of the enrolment service (figures, not a test).

    uv run python bench/seat_grab.py [--candidates 2000] [--seats 50] [--concurrency 64] [--rounds 4]

Needs PG_ADMIN_URL (a PostgreSQL superuser URL). It creates a throw-away database, migrates it,
sets up one exam session whose campus 991010 offers the orals F and S, and binds many candidates
(registrations through the service's own RegistrationBound handler, English written subjects held,
notices read). Then it starts two enrolment api replicas (uvicorn subprocesses, real EdDSA tokens
from TestTokens checked against a JWKS file) and, as the yardstick, two replicas of a bare
FastAPI + asyncpg endpoint doing only `UPDATE offerings SET remaining = remaining - 1 WHERE id = $1
AND remaining > 0`, and fires the same load at both through HTTP (httpx), in `--rounds` alternating
slices so that other load on a shared machine weighs on both alike:

  throughput  every candidate grabs an F seat, capacity = candidates (every request can hold);
  grab        every candidate grabs an S seat, capacity = --seats (few seats, most are refused).

Printed per run: successful holds/s, requests/s, p50/p99 latency, refusals ("full"), other
answers, oversold seats (must be 0), lost holds (must be 0: every 2xx has a seat-holding row and
every such row was answered 2xx), api CPU time per request, peak RSS of each api process, and the
enrolment/bare ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

# The yardstick, the bare FastAPI + asyncpg endpoint (`POST /grab/{offering_id}` on a row of the
# same `offerings` table), lives in bench/yardstick.py; uvicorn imports `yardstick:bare_app`.
from seat_grab_setup import Replicas, _prepare, _start

# -- the load --------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    seats: int
    statuses: dict[int, int]
    holds: list[str]
    latencies: list[float]
    seconds: float
    peak_rss: list[int]
    cpu_ms_per_request: float = 0.0
    oversold: int = 0
    lost: int = 0

    @classmethod
    def combine(cls, parts: list[Run]) -> Run:
        statuses: dict[int, int] = {}
        for part in parts:
            for status, count in part.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        requests = sum(sum(p.statuses.values()) for p in parts)
        return cls(
            parts[0].name,
            parts[0].seats,
            statuses,
            [h for p in parts for h in p.holds],
            [x for p in parts for x in p.latencies],
            sum(p.seconds for p in parts),
            [max(rss) for rss in zip(*(p.peak_rss for p in parts))],
            sum(p.cpu_ms_per_request * sum(p.statuses.values()) for p in parts) / max(1, requests),
        )

    @property
    def holds_per_second(self) -> float:
        return len(self.holds) / self.seconds

    def line(self) -> str:
        latencies = sorted(self.latencies)
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        refused = self.statuses.get(409, 0)
        other = sum(v for k, v in self.statuses.items() if k not in (200, 201, 409))
        rss = ", ".join(f"{r / 2**20:.0f} MiB" for r in self.peak_rss)
        return (
            f"{self.name:<22} holds {len(self.holds):>5}/{self.seats:<5} {self.holds_per_second:>8.0f} holds/s "
            f"{sum(self.statuses.values()) / self.seconds:>7.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
            f"full {refused:>5}  other {other}  oversold {self.oversold}  lost {self.lost}  "
            f"api CPU {self.cpu_ms_per_request:.1f} ms/req  peak RSS [{rss}]"
        )


async def _fire(name: str, replicas: Replicas, requests: list[tuple[str, dict, dict]], *, concurrency: int, seats: int) -> Run:
    """`requests`: (path, json body, headers); simulated candidate i talks to replica i mod 2."""
    statuses: dict[int, int] = {}
    holds: list[str] = []
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    stop = asyncio.Event()
    sampler = asyncio.create_task(replicas.sample_rss(stop))
    # One client (one keep-alive connection) per simulated candidate: a shared httpx pool with
    # many connections costs the load generator more CPU than the servers it measures.
    clients = [httpx.AsyncClient(timeout=120, base_url=replicas.urls[i % len(replicas.urls)]) for i in range(concurrency)]

    async def user(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            path, body, headers = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post(path, json=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 201:
                answer = response.json()
                holds.append(answer["enrolment_ids"][0] if "enrolment_ids" in answer else str(answer["remaining"]))

    cpu_before = replicas.cpu_seconds()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(user(http) for http in clients))
    finally:
        seconds = time.perf_counter() - started
        for http in clients:
            await http.aclose()
    cpu_ms = (replicas.cpu_seconds() - cpu_before) * 1000 / max(1, len(requests))
    stop.set()
    await sampler
    return Run(name, seats, statuses, holds, latencies, seconds, list(replicas.peak_rss), cpu_ms)


async def _audit(pg: asyncpg.Connection, run: Run, offering_id: uuid.UUID, *, enrolment: bool) -> None:
    capacity, remaining = await pg.fetchrow("SELECT capacity, remaining FROM offerings WHERE id = $1", offering_id)
    if enrolment:
        rows = {str(r) for r in await pg.fetchval("SELECT coalesce(array_agg(id), '{}') FROM enrolments WHERE offering_id = $1 AND seat_held", offering_id)}
        answered = set(run.holds)
        run.lost = len(rows ^ answered)
        held = len(rows)
    else:
        held = capacity - remaining
        run.lost = abs(held - len(run.holds))
    run.oversold = max(0, held - capacity) + max(0, -remaining)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=50, help="seats of the grab run (the throughput run has one per candidate)")
    parser.add_argument("--concurrency", type=int, default=64, help="simulated candidates at once, each with its own connection")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices of each run (bare, enrolment, enrolment, bare, …)")
    args = parser.parse_args()
    admin_url = os.environ.get("PG_ADMIN_URL")
    if not admin_url:
        raise SystemExit("PG_ADMIN_URL is not set: point it at a PostgreSQL superuser, e.g. postgresql://postgres@127.0.0.1:5432/postgres")

    from cet_shared.testing import TestTokens, throwaway_database
    from enrolment.cli import migrate

    tokens = TestTokens()
    async with throwaway_database("seatgrab") as database_url:
        await asyncio.to_thread(migrate, database_url)
        print(f"setting up {args.candidates} candidates …", flush=True)
        world = await _prepare(database_url, candidates=args.candidates, seats=args.seats, tokens=tokens)
        offering, people = world["offering"], world["people"]
        with tempfile.TemporaryDirectory() as tmp:
            jwks = Path(tmp) / "jwks.json"
            jwks.write_text(json.dumps(tokens.jwks))
            env = {**os.environ, "DATABASE_URL_ENROLMENT": database_url, "BARE_DATABASE_URL": database_url, "JWKS_URL": str(jwks), "CET_ENV": "test"}
            enrolment = await _start("enrolment.api.app:create_app", env, factory=True)
            bare = await _start("yardstick:bare_app", env, factory=False, app_dir=str(Path(__file__).parent))
            pg = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
            try:
                # Warm both up (connections, caches) with requests that change nothing.
                for replicas in (enrolment, bare):
                    async with httpx.AsyncClient() as http:
                        await asyncio.gather(*(http.get(url + "/openapi.json") for url in replicas.urls for _ in range(20)))
                runs = []
                for subject, seats, label in (("F", args.candidates, "throughput"), ("S", args.seats, "grab")):
                    bare_requests = [(f"/grab/{offering[('991020', subject)]}", None, {}) for _ in people]
                    mine = [("/me/oral", {"offering_id": str(offering[("991010", subject)])}, headers) for _, headers in people]
                    bare_parts, enrolment_parts = [], []
                    # Alternating slices (bare first, then enrolment first, …): a burst of other load
                    # on the shared machine hits both contenders, not just whichever ran at the time.
                    for index in range(args.rounds):
                        part = slice(index * len(people) // args.rounds, (index + 1) * len(people) // args.rounds)
                        order = [("bare", bare, bare_requests, bare_parts), ("enrolment", enrolment, mine, enrolment_parts)]
                        for name, replicas, requests, parts in order if index % 2 == 0 else reversed(order):
                            parts.append(await _fire(f"{name} {label}", replicas, requests[part], concurrency=args.concurrency, seats=seats))
                    bare_run, enrolment_run = Run.combine(bare_parts), Run.combine(enrolment_parts)
                    await _audit(pg, bare_run, offering[("991020", subject)], enrolment=False)
                    await _audit(pg, enrolment_run, offering[("991010", subject)], enrolment=True)
                    runs.append((label, bare_run, enrolment_run))
            finally:
                for replicas in (enrolment, bare):
                    for url, process in zip(replicas.urls, replicas.processes):
                        if process.poll() is not None:
                            print(f"replica {url} ({' '.join(process.args[3:4])}) exited early: {process.returncode}", file=sys.stderr)
                await pg.close()
                enrolment.stop()
                bare.stop()
    print()
    print(f"seat grab: {args.candidates} candidates, concurrency {args.concurrency}, 2 api replicas each, {os.cpu_count()} CPUs")
    for label, bare_run, enrolment_run in runs:
        print(bare_run.line())
        print(enrolment_run.line())
        print(
            f"{'':<22} ratio enrolment/bare: holds/s {enrolment_run.holds_per_second / bare_run.holds_per_second:.2f}, "
            f"req/s {(sum(enrolment_run.statuses.values()) / enrolment_run.seconds) / (sum(bare_run.statuses.values()) / bare_run.seconds):.2f}"
        )
    bad = [r for _, b, e in runs for r in (b, e) if r.oversold or r.lost or len(r.holds) > r.seats]
    if bad:
        raise SystemExit(f"INVARIANT BROKEN in {[r.name for r in bad]}")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
