"""A worker's ops port (cet_shared.worker_ops) against the real PostgreSQL and Kafka: /readyz
follows its broker and its database, and the figures it collects come from the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from cet_stack import free_ports
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from cet_shared.db import create_engine
from cet_shared.db.tables import common_metadata
from cet_shared.messaging import create_broker
from cet_shared.testing import required_env, throwaway_database, wait_for
from cet_shared.worker_ops import WorkerOps

pytestmark = pytest.mark.kafka


@pytest.fixture
async def ops_port(monkeypatch: pytest.MonkeyPatch) -> int:
    port = free_ports(1)[0]
    monkeypatch.setenv("WORKER_METRICS_PORT", str(port))
    return port


@pytest.fixture
async def engine() -> AsyncIterator:
    engine = create_engine(required_env("PG_ADMIN_URL"), pool_size=2)
    yield engine
    await engine.dispose()


async def test_readyz_follows_the_broker_and_the_database(ops_port: int, engine) -> None:
    broker = create_broker(required_env("KAFKA_BOOTSTRAP_SERVERS"), client_id="ops-under-test")
    await broker.start()
    ops = WorkerOps("under-test", engine=engine, broker=broker, consumers=(), relay=None)
    await ops.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}", timeout=10) as client:

            async def answering() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(answering, timeout=10, what="the ops port")
            assert (await client.get("/readyz")).json() == {"status": "ready"}
            await broker.stop()
            stopped = await client.get("/readyz")
            assert stopped.status_code == 503 and stopped.json()["waiting_for"] == ["broker"]
            assert (await client.get("/healthz")).status_code == 200  # alive, only not ready
    finally:
        await ops.stop()
        await broker.stop()


async def test_an_unreachable_database_makes_the_worker_not_ready(ops_port: int) -> None:
    broker = create_broker(required_env("KAFKA_BOOTSTRAP_SERVERS"), client_id="ops-under-test")
    await broker.start()
    closed_port = free_ports(1)[0]  # nothing listens there: a refused connection, as when PostgreSQL is down
    away = create_engine(f"postgresql://cet@127.0.0.1:{closed_port}/cet", pool_size=1)
    ops = WorkerOps("under-test", engine=away, broker=broker, consumers=(), relay=None)
    await ops.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}", timeout=10) as client:

            async def answering() -> httpx.Response | None:
                try:
                    return await client.get("/readyz")
                except httpx.TransportError:
                    return None

            ready = await wait_for(answering, timeout=10, what="the ops port")
            assert ready.status_code == 503 and ready.json()["waiting_for"] == ["database"]
            assert (await client.get("/metrics")).status_code == 200  # the scrape still answers
    finally:
        await ops.stop()
        await broker.stop()
        await away.dispose()


async def test_the_outbox_and_connection_figures_come_from_the_database() -> None:
    async with throwaway_database("worker_ops") as url:
        engine = create_engine(url, pool_size=2)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(common_metadata.create_all)
                for age, published in ((90, False), (30, False), (600, True)):
                    await connection.execute(
                        text(
                            "INSERT INTO outbox (event_id, topic, key, event_type, envelope, created_at, published_at)"
                            " VALUES (gen_random_uuid(), 't', 'k', 'E', '{}', now() - make_interval(secs => :age), CASE WHEN :published THEN now() END)"
                        ),
                        {"age": age, "published": published},
                    )
                max_connections = int((await connection.execute(text("SHOW max_connections"))).scalar_one())
            ops = WorkerOps("under-test", engine=engine, broker=None, consumers=(), relay=None)
            await ops.start()
            try:
                await ops.collect()
                samples = {s.name: s.value for f in text_string_to_metric_families(generate_latest(REGISTRY).decode()) for s in f.samples}
            finally:
                await ops.stop()
        finally:
            await engine.dispose()
    assert samples["cet_outbox_backlog"] == 2  # the published row is not backlog
    assert 90 <= samples["cet_outbox_oldest_unpublished_age_seconds"] < 120
    assert samples["cet_db_server_max_connections"] == max_connections
    assert 1 <= samples["cet_db_server_connections"] <= max_connections
