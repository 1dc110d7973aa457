"""The one way tests start the whole suite: every service as its own processes, behind a private gateway.

`start_stack()` makes one `Stack` (tests/e2e: per session; tests/browser: per package):
  - fresh throw-away databases (PG_ADMIN_URL), migrated with each service's `<svc>-admin migrate`;
  - its own Kafka broker (stack_kafka.py) on free ports, so a drill may stop it; every topic and
    consumer group also carries a unique prefix (KAFKA_TOPIC_PREFIX);
  - its own JWT key, captcha secret, mail sink (stack_mailbox.py) and payment keys;
  - every process deploy/topology.toml declares (stack_model.py), all on free ports, so it never
    collides with `make up` or other tests.
Each process runs in its own process group (stack_processes.py): `kill()` and `start()` again are
the drills' tools; teardown stops every group.

Tests import what they use from here (`from cet_stack import Stack, Mailbox, ...`).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from stack_kafka import KafkaNode
from stack_mailbox import Mailbox
from stack_model import PORT_NAMES, Stack
from stack_processes import BIN, REPO, Proc, free_ports, start_all

from cet_shared.testing import required_env, throwaway_database
from cet_shared.topics import create as create_topics

__all__ = ["BIN", "REPO", "KafkaNode", "Mailbox", "Proc", "Stack", "free_ports", "start_stack"]


def write_jwt_key(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path.chmod(0o600)


async def _migrate(stack: Stack, service: str) -> None:
    env = {**os.environ, f"DATABASE_URL_{service.upper()}": stack.database_urls[service]}
    proc = await asyncio.create_subprocess_exec(str(BIN / f"{service}-admin"), "migrate", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{service}-admin migrate failed:\n{out.decode(errors='replace')}")


@asynccontextmanager
async def start_stack(
    root: Path,
    *,
    name: str = "e2e",
    logs: Path | None = None,
    env_overrides: dict[str, str] | None = None,
    gateway_overrides: dict[str, str] | None = None,
    while_booting: Callable[[Stack], Awaitable[object]] | None = None,
    pg_admin_url: str | None = None,
    worker_replicas: dict[str, int] | None = None,
    env_for: Callable[[Stack, str], dict[str, str]] | None = None,
    kafka_proxied: tuple[int, int] | None = None,
) -> AsyncIterator[Stack]:
    """Start the whole suite under `root` (fresh databases `<name>_<svc>`, its own broker), yield it
    once the gateway answers, and stop every process afterwards. `while_booting(stack)` runs once the
    databases are migrated, alongside the rest of the start (e.g. staff accounts made with the CLIs).
    `pg_admin_url`: a cluster of the drill's own instead of PG_ADMIN_URL's; `worker_replicas`: more
    than one worker process for some services (`<svc>-worker-2`, …: relay leadership drills);
    `env_for(stack, process name)`: extra environment for some processes (a fault proxy in between);
    `kafka_proxied`: the broker's second listener behind a fault proxy (`KafkaNode`)."""
    for sub in ("logs", "mail", "payment-keys"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stack = Stack(
        root=root,
        pg_admin_url=pg_admin_url or required_env("PG_ADMIN_URL"),
        logs=logs,
        worker_replicas=dict(worker_replicas or {}),
        env_for=env_for,
        env_overrides=dict(env_overrides or {}),
        gateway_overrides=dict(gateway_overrides or {}),
        topic_prefix=f"{name}-{uuid.uuid4().hex[:8]}.",
    )
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
    stack.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    stack.kafka = KafkaNode(root / "kafka", stack.ports["kafka"], stack.ports["kafka-controller"], proxied=kafka_proxied)
    write_jwt_key(root / "jwt-ed25519.pem")
    t0 = time.monotonic()
    timings: list[str] = []

    def mark(what: str) -> None:
        timings.append(f"{time.monotonic() - t0:6.1f}s {what}")

    booting: asyncio.Future | None = None
    async with AsyncExitStack() as exits:
        try:
            # the broker boots (JVM) while the databases are made and migrated
            kafka_boot = asyncio.create_task(asyncio.to_thread(lambda: (stack.kafka.format(), stack.kafka.start())))
            stack.select_services()
            for svc in stack.services:
                stack.database_urls[svc] = await exits.enter_async_context(throwaway_database(f"{name}_{svc}", admin_url=stack.pg_admin_url))
            await asyncio.gather(*(_migrate(stack, svc) for svc in stack.services))
            mark("databases made and migrated")
            stack.build()
            booting = asyncio.ensure_future(while_booting(stack)) if while_booting else None
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
            # the broker creates no topic by itself (deploy/topics.toml is the one declaration)
            await create_topics(stack.kafka.bootstrap, prefix=stack.topic_prefix, max_partitions=6)
            mark("kafka ready, topics created")
            # Workers join their consumer groups in the background (some seconds on a fresh
            # broker); every test waits for the effects it expects, so nothing waits for them here.
            workers = [p for n, p in stack.procs.items() if "-worker" in n]
            for proc in workers:
                proc.start()
            for proc in apis:  # started above, while the broker booted
                await asyncio.to_thread(proc.wait_ready)
            mark("apis ready")
            stack.prepare_gateway()
            await asyncio.to_thread(start_all, [stack.procs["gateway"]])
            if booting is not None:
                await booting
            crashed = [p.name for p in workers if not p.alive]
            assert not crashed, f"workers exited at start: {crashed}\n" + "\n".join(stack.procs[n].tail() for n in crashed)
            mark("gateway ready")
            (root / "startup.txt").write_text("\n".join(timings) + "\n")
            yield stack
        finally:
            if booting is not None and not booting.done():
                booting.cancel()
            await asyncio.to_thread(stack.stop)
