"""The e2e stack for the whole test session (see e2e_harness.py), and the clients tests use.

Everything goes through the run's gateway, as a browser would. Staff accounts are made with
`passport-admin create-staff` against the run's database, as operations would.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from e2e_clients import Sessions, User, staff_account  # noqa: E402
from e2e_harness import BIN, REPO, KafkaNode, Stack, free_ports, start_all, write_jwt_key  # noqa: E402

from cet_shared.testing import required_env, throwaway_database  # noqa: E402

DEMO = REPO / "deploy/local/demo"
STAFF = {
    "ops": ("ops-e2e@example.com", ("ops",), None),
    "support": ("support-e2e@example.com", ("support",), None),
    "teacher": ("teacher99101@example.com", ("teacher",), "99101"),
}
PORT_NAMES = ("passport", "eligibility", "enrolment-1", "enrolment-2", "payment", "sandbox", "gateway", "smtp", "kafka", "kafka-controller")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The journey sees the registration window before it opens (E5): it runs before any test
    that opens a session. Drills that stop Kafka or kill processes run after the rest, and the
    flood of the edge rate limit last of all (its bucket refills slowly)."""
    def rank(item: pytest.Item) -> int:
        path = str(item.path)
        if "/tests/e2e/" not in path:
            return 0  # every other test first, in its own order: the e2e stack starts after them
        if "test_journey" in path:
            return 1
        if "rate_limits" in item.name:
            return 5
        if "kafka_stopped" in item.name:
            return 4
        if "test_drills" in path:
            return 3
        return 2

    items.sort(key=rank)


async def _migrate(stack: Stack, service: str) -> None:
    env = {**os.environ, f"DATABASE_URL_{service.upper()}": stack.database_urls[service]}
    proc = await asyncio.create_subprocess_exec(str(BIN / f"{service}-admin"), "migrate", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{service}-admin migrate failed:\n{out.decode(errors='replace')}")


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("e2e")
    for sub in ("logs", "mail", "payment-keys"):
        (root / sub).mkdir()
    stack = Stack(root=root, pg_admin_url=required_env("PG_ADMIN_URL"))
    stack.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    stack.kafka = KafkaNode(root / "kafka", stack.ports["kafka"], stack.ports["kafka-controller"])
    write_jwt_key(root / "jwt-ed25519.pem")
    t0 = time.monotonic()
    timings: list[str] = []

    def mark(what: str) -> None:
        timings.append(f"{time.monotonic() - t0:6.1f}s {what}")

    async with AsyncExitStack() as exits:
        try:
            # the broker boots (JVM) while the databases are made and migrated
            kafka_boot = asyncio.create_task(asyncio.to_thread(lambda: (stack.kafka.format(), stack.kafka.start())))
            stack.select_services()
            for svc in stack.services:
                stack.database_urls[svc] = await exits.enter_async_context(throwaway_database(f"e2e_{svc}"))
            await asyncio.gather(*(_migrate(stack, svc) for svc in stack.services))
            mark("databases made and migrated")
            stack.build()
            # staff accounts, as operations make them (passport-admin), while the rest boots
            staff_made = asyncio.gather(*(asyncio.to_thread(staff_account, stack, email, *roles, school=school) for email, roles, school in STAFF.values()))
            if "payment-sandbox" in stack.procs:
                subprocess.run([str(BIN / "payment-admin"), "make-test-keys", "--dir", str(root / "payment-keys")], check=True, capture_output=True)
            await kafka_boot
            mark("kafka formatted and launched")
            first = [stack.procs["mailsink"]] + ([stack.procs["payment-sandbox"]] if "payment-sandbox" in stack.procs else [])
            await asyncio.to_thread(start_all, first)  # the sandbox writes the key payment reads
            apis = [p for n, p in stack.procs.items() if n.endswith("-api") or "-api-" in n]
            for proc in apis:
                proc.start()
            await asyncio.to_thread(stack.kafka.wait_ready)
            mark("kafka ready")
            # Workers join their consumer groups in the background (some seconds on a fresh
            # broker); every test waits for the effects it expects, so nothing waits for them here.
            workers = [p for n, p in stack.procs.items() if n.endswith("-worker")]
            for proc in workers:
                proc.start()
            for proc in apis:  # started above, while the broker booted
                await asyncio.to_thread(proc.wait_ready)
            mark("apis ready")
            stack.prepare_gateway()
            await asyncio.to_thread(start_all, [stack.procs["gateway"]])
            await staff_made
            crashed = [p.name for p in workers if not p.alive]
            assert not crashed, f"workers exited at start: {crashed}\n" + "\n".join(stack.procs[n].tail() for n in crashed)
            mark("gateway and staff accounts ready")
            (root / "startup.txt").write_text("\n".join(timings) + "\n")
            yield stack
        finally:
            await asyncio.to_thread(stack.stop)


@pytest.fixture(scope="session")
async def staff(stack: Stack) -> AsyncIterator[dict[str, User]]:
    """ops, support and a teacher of (99101)测试学校, logged in through the gateway."""
    users = {name: await User(stack, email).log_in() for name, (email, _, _) in STAFF.items()}
    yield users
    for user in users.values():
        await user.close()


@pytest.fixture(scope="session")
async def registry(staff: dict[str, User]) -> None:
    """The demo registry and CET4 scores, imported by ops through the gateway (E13)."""
    for path, kind in (("/api/eligibility/registry/students", "students.csv"), ("/api/eligibility/registry/scores", "scores.csv")):
        response = await staff["ops"].post(path, content=(DEMO / kind).read_bytes(), headers={"content-type": "text/csv"})
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
async def sessions(stack: Stack, staff: dict[str, User]) -> Sessions:
    return Sessions(stack, staff["ops"])


@pytest.fixture(scope="session")
async def open_session(sessions: Sessions, registry: None) -> uuid.UUID:
    """The open exam session every test after the journey's first steps uses."""
    now = datetime.now(timezone.utc)
    return await sessions.publish("2017年下半年CET考试", now - timedelta(days=1), now + timedelta(days=14))


