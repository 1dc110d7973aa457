"""Relay leadership as a lease (issue 10), with real processes: the leader is frozen with SIGSTOP
while writers keep committing events concurrently; another relay takes over within 10 s, the old
one steps down after SIGCONT, and every key's events reach Kafka in commit order (re-sends are
copies the inboxes drop)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from cet_shared.events.contracts import ELIGIBILITY_REGISTRATIONS, RegistrationReleased
from cet_shared.testing import KafkaProbe, unique_topic_prefix, wait_for

pytestmark = pytest.mark.kafka
RELAY = Path(__file__).with_name("relay_process.py")


class RelayProcess:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[tuple[str, float]] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None

    async def start(self, url: str, prefix: str) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(RELAY), url, prefix, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        self._reader = asyncio.create_task(self._read())
        await wait_for(lambda: self.saw("started"), timeout=30, what=f"{self.name} to start")

    async def _read(self) -> None:
        async for line in self.process.stdout:
            word, stamp, *_ = line.decode().split()
            self.lines.append((word, float(stamp)))

    def saw(self, word: str) -> list[float]:
        return [stamp for w, stamp in self.lines if w == word]

    def signal(self, sig: int) -> None:
        os.kill(self.process.pid, sig)

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)


async def write_forever(unit_of_work, keys: list[uuid.UUID], written: dict[str, int], stop: asyncio.Event) -> None:
    """A writer as the services write: the key's row lock first, then the event (`enqueue`)."""
    while not stop.is_set():
        key = random.choice(keys)
        async with unit_of_work() as uow:
            seq = (await uow.session.execute(text("UPDATE lease_keys SET seq = seq + 1 WHERE key = :k RETURNING seq"), {"k": str(key)})).scalar_one()
            await uow.publish(RegistrationReleased(registration_id=key, passport_id=f"{seq:032d}"), key=str(key))
            await uow.commit()
        written[str(key)] = max(written.get(str(key), 0), seq)
        await asyncio.sleep(0.005)


async def test_a_frozen_leader_is_replaced_within_10_seconds_steps_down_when_it_thaws_and_per_key_order_holds(database_url, engine, unit_of_work):
    prefix = unique_topic_prefix()
    keys = [uuid.uuid4() for _ in range(6)]
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS lease_keys (key text PRIMARY KEY, seq int NOT NULL)"))
        await connection.execute(text("TRUNCATE lease_keys"))
        for key in keys:
            await connection.execute(text("INSERT INTO lease_keys VALUES (:k, 0)"), {"k": str(key)})
    first, second = RelayProcess("first"), RelayProcess("second")
    written: dict[str, int] = {}
    stop = asyncio.Event()
    async with KafkaProbe(prefix + ELIGIBILITY_REGISTRATIONS) as probe:
        try:
            await first.start(database_url, prefix)
            await wait_for(lambda: first.saw("leader"), timeout=30, what="the first relay to lead")
            await second.start(database_url, prefix)
            writers = [asyncio.create_task(write_forever(unit_of_work, keys, written, stop)) for _ in range(8)]
            await wait_for(lambda: len(probe.messages) >= 50, timeout=30, what="events flowing")

            first.signal(signal.SIGSTOP)
            frozen_at = time.time()
            await wait_for(lambda: second.saw("leader"), timeout=15, what="the second relay to take over")
            takeover = second.saw("leader")[0] - frozen_at
            sent_before = len(probe.messages)
            await wait_for(lambda: len(probe.messages) >= sent_before + 50, timeout=30, what="the new leader publishing")
            first.signal(signal.SIGCONT)
            thawed_at = time.time()
            await wait_for(lambda: first.saw("stepped-down"), timeout=15, what="the thawed relay to step down")
            stepped_down = first.saw("stepped-down")[0] - thawed_at

            stop.set()
            await asyncio.gather(*writers)
            total = sum(written.values())
            await wait_for(lambda: len({json.loads(m.value)["event_id"] for m in probe.messages}) >= total, timeout=30, what="every event written")
            assert len(first.saw("leader")) == 1, "the thawed relay never leads again while the other one does"
        finally:
            stop.set()
            for relay in (first, second):
                if relay.process and relay.process.returncode is None:
                    relay.signal(signal.SIGCONT)
                await relay.stop()
    assert takeover <= 10, f"takeover took {takeover:.1f}s"
    first_copies: dict[str, list[int]] = {}
    seen: set[str] = set()
    for message in probe.messages:
        envelope = json.loads(message.value)
        if envelope["event_id"] in seen:
            continue
        seen.add(envelope["event_id"])
        first_copies.setdefault(envelope["key"], []).append(int(envelope["payload"]["passport_id"]))
    for key in keys:
        assert first_copies[str(key)] == list(range(1, written[str(key)] + 1)), f"key {key}: first copies in commit order, none missing"
    resent = len(probe.messages) - len(seen)
    print(f"\n[figures] relay_sigstop: takeover_seconds={takeover:.1f} step_down_after_sigcont_seconds={stepped_down:.1f} events={len(seen)} re_sent={resent}")
