"""The `replicas` fixture: real uvicorn processes of the enrolment api on one database (O1), for
the capacity proofs (test_capacity_proof, test_capacity_batches)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=[2, 4], ids=lambda n: f"{n}-replicas")
async def replicas(request: pytest.FixtureRequest, database_url: str, tokens, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Real `uvicorn` processes of the enrolment api on free ports, verifying tokens against the
    test run's JWKS through a file (JWKS_URL accepts a path)."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(tokens.jwks))
    env = {**os.environ, "DATABASE_URL_ENROLMENT": database_url, "JWKS_URL": str(jwks), "CET_ENV": "test", "DB_POOL_SIZE": "8"}
    ports = [_free_port() for _ in range(request.param)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "enrolment.api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as http:
            deadline = asyncio.get_running_loop().time() + 240  # four interpreters starting on a busy 2-core machine
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
