"""The fault drills' own stack and the tools they share (tests/e2e/test_fault_drills.py)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from cet_stack import BIN, Stack, free_ports, start_stack
from e2e_clients import Sessions, User, staff_account, wait_until
from pg_cluster import PgCluster
from test_drills import bind_all

from cet_shared.toxiproxy import Proxy, Toxiproxy

OPS = "ops-drills@example.com"


@dataclass
class Drill:
    stack: Stack
    cluster: PgCluster
    ops: User
    session_id: uuid.UUID
    worker_pg: Proxy  # enrolment's worker -> PostgreSQL
    workers_kafka: Proxy  # every worker (relays, consumers) -> Kafka


@asynccontextmanager
async def drill_stack(root: Path, enrolment_env: dict[str, str] | None = None) -> AsyncIterator[Drill]:
    """The drills' stack: its own cluster, two eligibility workers, fault proxies in front of
    PostgreSQL (enrolment's worker) and Kafka (every worker). `enrolment_env`: settings of every
    enrolment process (e.g. a short unpaid lifetime)."""
    cluster = PgCluster(free_ports(1)[0])
    await asyncio.to_thread(cluster.init)
    await asyncio.to_thread(cluster.start)
    try:
        with Toxiproxy(root / "toxiproxy.log") as toxiproxy:
            # enrolment's worker reaches PostgreSQL through a link the blackhole drill cuts
            worker_link = toxiproxy.proxy("enrolment-worker-pg", f"127.0.0.1:{cluster.port}")
            # the workers reach the broker through its second listener, behind a proxy
            kafka_listen = free_ports(1)[0]
            kafka_link = toxiproxy.proxy("workers-kafka", f"127.0.0.1:{kafka_listen}")

            def env_for(stack: Stack, name: str) -> dict[str, str]:
                env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_link.address} if "-worker" in name else {}
                if name.startswith("enrolment"):
                    env.update(enrolment_env or {})
                if name == "enrolment-worker":
                    env["DATABASE_URL_ENROLMENT"] = stack.database_urls["enrolment"].replace(worker_link.upstream, worker_link.address)
                return env

            async def ops_account(stack: Stack) -> None:
                await asyncio.to_thread(staff_account, stack, OPS, "ops")

            async with start_stack(
                root,
                name="drill",
                pg_admin_url=cluster.admin_url,
                worker_replicas={"eligibility": 2},
                env_for=env_for,
                kafka_proxied=(kafka_listen, kafka_link.port),
                while_booting=ops_account,
            ) as stack:
                ops = await User(stack, OPS).log_in()
                now = datetime.now(UTC)
                session_id = await Sessions(stack, ops).publish("演练考试", now - timedelta(days=1), now + timedelta(days=14))
                yield Drill(stack, cluster, ops, session_id, worker_link, kafka_link)
                await ops.close()
    finally:
        await asyncio.to_thread(cluster.destroy)


async def bind_when_known(crowd, identities, indexes) -> None:
    """Eligibility learns the published session through its consumer: bind once it does."""

    async def first_bound() -> bool:
        r = await crowd.request(indexes[0], "POST", "/api/eligibility/registrations", json={**identities[indexes[0]], "confirmed": True})
        return r.status_code == 200

    await wait_until(first_bound, timeout=60, interval=0.5, what="eligibility to learn the exam session")
    await bind_all(crowd, identities, indexes[1:])


async def dead_letters_by_topic(stack: Stack) -> dict[str, int]:
    """Messages on each dead-letter topic, from the broker's offsets (end minus beginning): exact,
    with no waiting for a consumer to read topics that may well be empty."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    from cet_shared.topics import load

    names = [stack.topic_prefix + t.name for t in load() if t.dead_letters_of]
    admin_client = AIOKafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
    await admin_client.start()
    try:
        described = await admin_client.describe_topics(names)
    finally:
        await admin_client.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    assert {t["topic"] for t in described if t["partitions"]} == set(names), f"a declared dead-letter topic is missing: {described}"
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka.bootstrap)
    await consumer.start()
    try:
        ends, starts = await consumer.end_offsets(partitions), await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    counts: dict[str, int] = {}
    for tp in partitions:
        if ends[tp] > starts[tp]:
            name = tp.topic.removeprefix(stack.topic_prefix)
            counts[name] = counts.get(name, 0) + ends[tp] - starts[tp]
    return counts


async def dead_letter_messages(stack: Stack) -> int:
    return sum((await dead_letters_by_topic(stack)).values())


async def sql(stack: Stack, service: str, query: str, *args):
    connection = await asyncpg.connect(stack.database_urls[service].replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def admin(stack: Stack, service: str, *argv: str) -> subprocess.CompletedProcess:
    """`<service>-admin …` as operations run it, against the drill's database."""
    env = {**stack.base_env(), "CET_ENV": "test"}
    return await asyncio.to_thread(subprocess.run, [str(BIN / f"{service}-admin"), *argv], env=env, capture_output=True, text=True, timeout=180)


def leader_log(stack: Stack) -> dict[str, list[float]]:
    """When each eligibility worker logged that it became the leader or stepped down (log mtime order)."""
    out: dict[str, list[float]] = {}
    for name in ("eligibility-worker", "eligibility-worker-2"):
        text = stack.procs[name].log.read_text(errors="replace")
        out[name] = [text.count("outbox relay is the leader"), text.count("outbox relay stepped down")]
    return out


class LogWatch:
    """What some processes logged from now on."""

    def __init__(self, *logs: Path) -> None:
        self.logs = logs
        self.offsets = [log.stat().st_size for log in logs]

    def saw(self, marker: str) -> bool:
        for log, offset in zip(self.logs, self.offsets, strict=True):
            with log.open("rb") as f:
                f.seek(offset)
                if marker.encode() in f.read():
                    return True
        return False
