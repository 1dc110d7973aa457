"""Helpers for tests against the real PostgreSQL and Kafka that `.ci/run` (or make up) started.

Tests create a throw-away database per test session through PG_ADMIN_URL and drop it after; they
never touch the services' own databases. When no infrastructure is configured they fail loudly
instead of skipping.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

if TYPE_CHECKING:  # imported where used: the pytest plugin loads this module in every run
    from cet_shared.auth import TokenVerifier
    from cet_shared.worker import Worker


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
async def throwaway_database(prefix: str, *, admin_url: str | None = None) -> AsyncIterator[str]:
    """Create an empty database, yield its asyncpg SQLAlchemy URL, drop it afterwards.
    `admin_url`: another cluster than PG_ADMIN_URL's (a drill's own, which it may stop)."""
    admin_url = admin_url or required_env("PG_ADMIN_URL")
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


async def wait_for(predicate: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.1, what: str = "condition") -> Any:
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


class TestTokens:
    """Mints access tokens the way passport does, with a key made for this test run only.

    Give `verifier()` to the app under test (`app.state.token_verifier`) or `jwks` to its settings.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, *, issuer: str = "cet-passport", audience: str = "cet-suite") -> None:
        from datetime import timedelta

        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from cet_shared.tokens import TokenSigner

        self.issuer, self.audience = issuer, audience
        self.signer = TokenSigner(Ed25519PrivateKey.generate(), issuer=issuer, audience=audience, lifetime=timedelta(minutes=30))

    @property
    def jwks(self) -> dict[str, Any]:
        return self.signer.jwks()

    def verifier(self) -> TokenVerifier:
        from cet_shared.auth import TokenVerifier

        return TokenVerifier(self.jwks, issuer=self.issuer, audience=self.audience)

    def token(self, passport_id: str | None = None, *roles: str, school_code: str | None = None, token_version: int = 0) -> str:
        from datetime import datetime

        return self.signer.issue(
            passport_id=passport_id or uuid.uuid4().hex.upper(),
            roles=list(roles or ("candidate",)),
            token_version=token_version,
            school_code=school_code,
            now=datetime.now(UTC),
        )

    def headers(self, passport_id: str | None = None, *roles: str, school_code: str | None = None) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(passport_id, *roles, school_code=school_code)}"}


def wait_for_http(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Block until `url` answers, for the benchmarks' and tools' own processes: fail at once if the
    process exits, or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a local http URL we built
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {seconds} s") from None
            time.sleep(0.2)


def unique_topic_prefix(*extra_topics: str) -> str:
    """A prefix for topics and consumer groups that no other test run uses, with the manifest's
    topics (deploy/topics.toml) created under it — brokers do not auto-create topics — and
    `extra_topics` (e.g. the dead-letter topic of a test's own consumer group)."""
    prefix = f"test-{uuid.uuid4().hex[:8]}."
    create_topics(prefix, extra_topics)
    return prefix


def create_topics(prefix: str, extra_topics: tuple[str, ...] = (), *, bootstrap: str | None = None) -> None:
    """Synchronously (callable from sync and async code alike): the admin client runs in its own loop."""
    from concurrent.futures import ThreadPoolExecutor

    from cet_shared.topics import create

    # Tests make many prefixes: a few partitions each keep the broker light.
    work = create(bootstrap or kafka_bootstrap(), prefix=prefix, max_partitions=6, extra=tuple(extra_topics))
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


class KafkaProbe:
    """Reads every message of some topics from the start: what really reached the broker."""

    def __init__(self, *topics: str, bootstrap: str | None = None) -> None:
        from aiokafka import AIOKafkaConsumer

        self.topics = topics
        self.messages: list[Any] = []
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap or kafka_bootstrap(),
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=500,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> KafkaProbe:
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _collect(self) -> None:
        async for record in self._consumer:
            self.messages.append(record)

    def envelopes(self, event_type: str | None = None) -> list[dict[str, Any]]:
        import json

        out = []
        for record in self.messages:
            try:
                body = json.loads(record.value)
            except ValueError:
                continue
            if event_type is None or body.get("event_type") == event_type:
                out.append(body)
        return out

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        await wait_for(lambda: len(self.envelopes(event_type)) >= count, timeout=timeout, what=f"{count} {event_type} on {self.topics}")
        return self.envelopes(event_type)


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[Worker]:
    """Run a `cet_shared.worker.Worker` inside a test, stopping it cleanly afterwards."""
    task = asyncio.create_task(worker.run())
    started = asyncio.create_task(worker.started())
    done, _ = await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    if task in done:
        started.cancel()
        task.result()  # raises what stopped it
    if not done:
        raise AssertionError("worker did not start within 30s")
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=30)


@dataclass(frozen=True)
class AuditEntry:
    kind: str
    subject: tuple[str, Any]
    before: Any = None
    after: Any = None
    candidate: Any = None
    school: str | None = None
    province: str | None = None


class MemoryAuditTrail:
    """cet_shared.audit.AuditTrail for a unit tier's fake unit of work: entries go to the list the
    fake transaction holds, so they are kept on commit and dropped on rollback like the rows."""

    def __init__(self, entries: list[AuditEntry]) -> None:
        self.entries = entries

    async def record(
        self,
        kind: str,
        subject: tuple[str, Any],
        *,
        before: Any = None,
        after: Any = None,
        candidate: Any = None,
        school: str | None = None,
        province: str | None = None,
    ) -> None:
        self.entries.append(AuditEntry(kind, subject, before, after, candidate, school, province))


def sibling_module(anchor: str, name: str) -> ModuleType:
    """Import `name`.py next to `anchor` (a conftest's __file__): under --import-mode=importlib a
    test directory is no package, yet a unit tier keeps its fakes in a module of their own."""
    path = Path(anchor).with_name(f"{name}.py")
    module_name = f"_tests_{path.parent.parent.parent.name}_{path.parent.name}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # before running it: dataclasses look their module up
    spec.loader.exec_module(module)
    return module
