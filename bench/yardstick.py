"""The yardsticks of the seat benchmarks: the naive design, measured in the same run.

- `bare_app`: a bare FastAPI + asyncpg endpoint that only runs the one-row conditional
  `UPDATE … SET remaining = remaining - 1 WHERE id = $1 AND remaining > 0` (no token, no rule, no
  outbox). It answers `POST /me/oral {"offering_id": …}` like enrolment, so the same gateway
  configuration treats both alike, and `POST /grab/{id}` for bench/seat_grab.py. Its table:
  `BARE_TABLE` (default `offerings`, seat_grab's shared table; bench/peak.py gives it a table of
  its own in a database of its own, so it does not depend on enrolment's schema).
- `Yardstick` (bench/peak.py): two replicas of it behind a second instance of the suite's gateway,
  rendered from the same templates (deploy/gateway/render.py) with only the listening port and
  the enrolment upstreams changed; and pgbench running the same statement on the same PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI, Request, Response

from cet_shared.testing import wait_for_http

TABLE = os.environ.get("BARE_TABLE", "offerings")
TAKE = f"UPDATE {TABLE} SET remaining = remaining - 1 WHERE id = $1 AND remaining > 0 RETURNING remaining"
REPO = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def _lifespan(app: FastAPI):
    url = os.environ["BARE_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    app.state.pool = await asyncpg.create_pool(url, min_size=10, max_size=20)
    yield
    await app.state.pool.close()


bare_app = FastAPI(lifespan=_lifespan)


async def _take(offering_id: uuid.UUID) -> Response:
    async with bare_app.state.pool.acquire() as connection:
        remaining = await connection.fetchval(TAKE, offering_id)
    if remaining is None:
        return Response('{"code":"seats_full"}', status_code=409, media_type="application/problem+json")
    return Response(json.dumps({"enrolment_ids": [str(remaining)], "remaining": remaining}), status_code=201, media_type="application/json")


@bare_app.post("/grab/{offering_id}")
async def bare_grab(offering_id: uuid.UUID) -> Response:
    return await _take(offering_id)


@bare_app.post("/me/oral")
async def bare_oral(request: Request) -> Response:
    return await _take(uuid.UUID((await request.json())["offering_id"]))


# -- bench/peak.py's yardstick: replicas, their gateway, pgbench ---------------------------------

BARE_PORTS = (8083, 8084)  # inside the suite's fixed range (make up: 8001-8090), free there
BARE_GATEWAY = "127.0.0.1:8081"


class Yardstick:
    """The bare endpoint's database, replicas and gateway; `table` rows are its offerings."""

    table = "bench_seats"

    def __init__(self, admin_url: str, var: Path) -> None:
        self.admin_url = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.url = self._database_url()
        self.var = var
        self.processes: dict[str, subprocess.Popen] = {}

    def _database_url(self) -> str:
        head, _, tail = self.admin_url.rpartition("/")
        query = tail.partition("?")[2]
        return f"{head}/cet_bench" + (f"?{query}" if query else "")

    async def prepare(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = 'cet_bench'"):
                await admin.execute("CREATE DATABASE cet_bench")
        finally:
            await admin.close()
        db = await asyncpg.connect(self.url)
        try:
            await db.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (id uuid PRIMARY KEY, capacity integer NOT NULL, remaining integer NOT NULL CHECK (remaining >= 0))"
            )
        finally:
            await db.close()

    async def new_offering(self, capacity: int) -> uuid.UUID:
        db = await asyncpg.connect(self.url)
        try:
            offering = uuid.uuid4()
            await db.execute(f"INSERT INTO {self.table} VALUES ($1, $2, $2)", offering, capacity)
            return offering
        finally:
            await db.close()

    async def audit(self, offering: uuid.UUID, answered: int) -> tuple[int, int]:
        """(oversold, lost) of one offering: seats taken beyond capacity; |taken - answered 201|."""
        db = await asyncpg.connect(self.url)
        try:
            capacity, remaining = await db.fetchrow(f"SELECT capacity, remaining FROM {self.table} WHERE id = $1", offering)
        finally:
            await db.close()
        taken = capacity - remaining
        return max(0, taken - capacity) + max(0, -remaining), abs(taken - answered)

    def start(self) -> None:
        env = {**os.environ, "BARE_DATABASE_URL": self.url, "BARE_TABLE": self.table}
        for index, port in enumerate(BARE_PORTS, 1):
            # As the suite serves its apis (cet_shared.entrypoints.serve_api): one uvicorn process,
            # no access log, the gateway's forwarded headers trusted.
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "yardstick:bare_app",
                "--app-dir",
                str(Path(__file__).parent),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--proxy-headers",
            ]
            self.processes[f"bare-api-{index}"] = subprocess.Popen(command, env=env)
        for (name, process), port in zip(self.processes.items(), BARE_PORTS):
            wait_for_http(f"http://127.0.0.1:{port}/openapi.json", process)
        prefix = self.var / "bench" / "gateway-bare"
        servers = " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in BARE_PORTS)
        env = {**os.environ, "CET_GW_LISTEN": BARE_GATEWAY, "CET_GW_ENROLMENT_SERVERS": servers}
        rendered = subprocess.run(
            [sys.executable, str(REPO / "deploy" / "gateway" / "render.py"), "--prefix", str(prefix)], env=env, capture_output=True, text=True, check=True
        )
        self.processes["bare-gateway"] = subprocess.Popen(shlex.split(rendered.stdout.strip()), stdout=subprocess.DEVNULL)
        wait_for_http(f"http://{BARE_GATEWAY}/healthz", self.processes["bare-gateway"])

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def pgbench(url: str, offering: uuid.UUID, table: str, *, clients: int, seconds: int, workdir: Path) -> dict[str, float]:
    """pgbench's tx/s and latency for the same statement on one row with seats to spare."""
    script = workdir / "take.sql"
    script.write_text(f"UPDATE {table} SET remaining = remaining - 1 WHERE id = '{offering}' AND remaining > 0 RETURNING remaining;\n")
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script), url],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"pgbench failed: {out.stderr.strip()}")
    tps = re.search(r"tps = ([0-9.]+)", out.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", out.stdout)
    return {"tps": float(tps.group(1)) if tps else 0.0, "latency_ms": float(latency.group(1)) if latency else 0.0}
