"""One stack of the whole suite (tests/harness/cet_stack.py) with traces written to files, after
the observed journey (observed.py).

Module-scoped on purpose: the stack is gone before tests/e2e starts its own (two stacks at once
would be too much for the machine)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "harness", HERE.parent / "e2e"):
    sys.path.insert(0, str(folder))

from cet_stack import Stack, start_stack  # noqa: E402
from e2e_clients import staff_account  # noqa: E402
from observed import OPS_EMAIL, Journey, run_journey  # noqa: E402


@pytest.fixture(scope="module")
async def journey(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Journey]:
    root = tmp_path_factory.mktemp("observed")
    traces = root / "traces"

    async def ops_account(stack: Stack) -> None:
        await asyncio.to_thread(staff_account, stack, OPS_EMAIL, "ops")

    overrides = {"CET_TRACES_DIR": str(traces), "TRACE_SAMPLE_RATIO": "1"}
    async with start_stack(root, name="obs", env_overrides=overrides, while_booting=ops_account) as stack:
        observed = Journey(stack, traces)
        await run_journey(stack, observed)
        yield observed
