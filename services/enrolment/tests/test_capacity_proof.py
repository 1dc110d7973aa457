"""N11 / O1, proven the way pretix proves its quotas: first that the race is real when the seat
is taken by read-then-write, then that the real guard sells exactly the capacity to 200
concurrent candidates spread over two api processes sharing one database. The guard is one
conditional `UPDATE offerings SET remaining = remaining - 1 WHERE id = … AND remaining > 0` in the
enrolment's own transaction, run inside its COMMIT by a deferred constraint trigger (migration
0002), so the hold, its outbox row and its seat commit together or not at all."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

SEATS = 10
CANDIDATES = 200


async def test_n11_the_race_is_real_without_the_guard(world) -> None:
    """Read `remaining`, decide, write it back: 20 concurrent buyers of 10 seats all succeed."""
    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats

    async def read_then_write() -> bool:
        async with world.ctx.engine.connect() as connection:
            remaining = (await connection.execute(text("SELECT remaining FROM offerings WHERE id = :id"), {"id": offering})).scalar_one()
            await connection.commit()
            await asyncio.sleep(0.05)  # the think time between reading and writing that every request has
            if remaining <= 0:
                return False
            await connection.execute(text("UPDATE offerings SET remaining = :r WHERE id = :id"), {"r": remaining - 1, "id": offering})
            await connection.commit()
            return True

    sold = sum(await asyncio.gather(*(read_then_write() for _ in range(20))))
    assert sold > SEATS, "the unguarded read-then-write should oversell"
    assert await world.scalar("SELECT remaining FROM offerings WHERE id = :id", id=offering) > 0  # and it even loses count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def two_replicas(database_url: str, tokens, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two real `uvicorn` processes of the enrolment api on free ports, verifying tokens against
    the test run's JWKS through a file (JWKS_URL accepts a path)."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(tokens.jwks))
    env = {**os.environ, "DATABASE_URL_ENROLMENT": database_url, "JWKS_URL": str(jwks), "CET_ENV": "test"}
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "enrolment.api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env=env,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as http:
            deadline = asyncio.get_running_loop().time() + 60
            for url, process in zip(urls, processes):
                while True:
                    assert process.poll() is None, f"api replica on {url} exited with {process.returncode}"
                    try:
                        if (await http.get(f"{url}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert asyncio.get_running_loop().time() < deadline, f"api replica on {url} did not get ready"
                    await asyncio.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def test_n11_200_concurrent_requests_for_10_seats_over_two_api_processes(world, two_replicas) -> None:
    world.ctx.clock.set(datetime.now(timezone.utc))  # the replicas run on the system clock
    await world.open_session()
    offering = await world.offering("991010", "F")  # 10 seats
    candidates = [await world.bind() for _ in range(CANDIDATES)]
    for batch in range(0, CANDIDATES, 20):
        answers = await asyncio.gather(*(c.written("1") for c in candidates[batch:batch + 20]))
        assert all(a.status_code == 201 for a in answers)

    limits = httpx.Limits(max_connections=CANDIDATES, max_keepalive_connections=CANDIDATES)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        async def grab(index: int, candidate) -> tuple[str, httpx.Response]:  # noqa: ANN001
            url = two_replicas[index % 2]
            return url, await http.post(f"{url}/me/oral", json={"offering_id": str(offering)}, headers=candidate.headers)

        answers = await asyncio.gather(*(grab(i, c) for i, c in enumerate(candidates)))

    statuses = Counter(response.status_code for _, response in answers)
    assert statuses == {201: SEATS, 409: CANDIDATES - SEATS}, statuses
    assert {response.json()["code"] for _, response in answers if response.status_code == 409} == {"seats_full"}
    assert {url for url, _ in answers} == set(two_replicas)
    # Every hold answered 201 is a row holding a seat, and the other way round.
    async with world.ctx.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id::text FROM enrolments WHERE offering_id = :id AND seat_held"), {"id": offering})).scalars().all()
        remaining = (await connection.execute(text("SELECT remaining FROM offerings WHERE id = :id"), {"id": offering})).scalar_one()
    answered = {response.json()["enrolment_ids"][0] for _, response in answers if response.status_code == 201}
    assert set(rows) == answered and remaining == 0
    assert len([e for e in await world.outbox("SubjectEnrolled") if e["subject_code"] == "F"]) == SEATS
