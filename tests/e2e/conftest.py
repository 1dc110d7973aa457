"""The e2e stack for the whole test session (tests/harness/cet_stack.py), and the clients tests use.

Everything goes through the run's gateway, as a browser would. Staff accounts are made with
`passport-admin create-staff` against the run's database, as operations would.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "harness"))

from cet_stack import REPO, Stack, start_stack
from e2e_clients import Sessions, User, staff_account

DEMO = REPO / "deploy/local/demo"
STAFF = {
    "ops": ("ops-e2e@example.com", ("ops",), None),
    "support": ("support-e2e@example.com", ("support",), None),
    "teacher": ("teacher99101@example.com", ("teacher",), "99101"),
}


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


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async def staff_accounts(stack: Stack) -> None:
        # staff accounts, as operations make them (passport-admin), while the rest boots
        await asyncio.gather(*(asyncio.to_thread(staff_account, stack, email, *roles, school=school) for email, roles, school in STAFF.values()))

    async with start_stack(tmp_path_factory.mktemp("e2e"), name="e2e", while_booting=staff_accounts) as stack:
        yield stack


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
    now = datetime.now(UTC)
    return await sessions.publish("2017年下半年CET考试", now - timedelta(days=1), now + timedelta(days=14))
