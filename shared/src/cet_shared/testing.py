"""Helpers for tests against the real PostgreSQL and Kafka that `.ci/run` (or make up) started.

Tests create a throw-away database per test session through PG_ADMIN_URL and drop it after; they
never touch the services' own databases. When no infrastructure is configured they fail loudly
instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: start the infrastructure with `make infra-up` and run tests with `make test` "
            "(it sources .local/env), or export the variables yourself"
        )
    return value


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@asynccontextmanager
async def throwaway_database(prefix: str) -> AsyncIterator[str]:
    """Create an empty database, yield its asyncpg SQLAlchemy URL, drop it afterwards."""
    admin_url = required_env("PG_ADMIN_URL")
    name = f"test_{prefix}_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield _with_database(admin_url, name).replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def kafka_bootstrap() -> str:
    return required_env("KAFKA_BOOTSTRAP_SERVERS")


async def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):  # noqa: ANN001, ANN201
    """Poll an async or sync predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
