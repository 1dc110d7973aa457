"""What the cluster manifests are made of: the suite's processes, read from the code and from
deploy/topics.toml, so a new consumer group or topic reaches the cluster by re-running the generator."""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[3]
TOPICS_TOML = REPO / "deploy" / "topics.toml"

# Every process of the suite (deploy/local/suite.sh starts the same ones): the api's port is the
# service's default port (its entrypoints.py); every worker serves /metrics, /healthz and /readyz.
API_PORTS = {"passport": 8001, "eligibility": 8002, "enrolment": 8003, "payment": 8004}
WORKER_METRICS_PORT = 9100
SANDBOX_PORT = 8090
KAFKA_CLUSTER = "cet-kafka"
KAFKA_BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:9092"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    retention_ms: int
    cleanup_policy: str
    dead_letters_of: str | None = None


@dataclass(frozen=True)
class ConsumerGroup:
    name: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    name: str
    api_port: int
    groups: tuple[ConsumerGroup, ...] = field(default_factory=tuple)

    @property
    def db_cluster(self) -> str:
        return f"{self.name}-db"

    @property
    def pooler(self) -> str:
        return f"{self.name}-db-pooler"


def topics() -> list[Topic]:
    data = tomllib.loads(TOPICS_TOML.read_text(encoding="utf-8"))
    defaults = data["defaults"]
    return [
        Topic(
            name=entry["name"],
            partitions=entry.get("partitions", defaults["partitions"]),
            replication_factor=entry.get("replication_factor", defaults["replication_factor"]),
            min_insync_replicas=entry.get("min_insync_replicas", defaults["min_insync_replicas"]),
            retention_ms=entry.get("retention_ms", defaults["retention_ms"]),
            cleanup_policy=entry.get("cleanup_policy", defaults["cleanup_policy"]),
            dead_letters_of=entry.get("dead_letters_of"),
        )
        for entry in data["topic"]
    ]


def consumer_groups(service: str) -> tuple[ConsumerGroup, ...]:
    """The groups a worker runs and the topics each reads, as its consumers declare them (the
    handlers are registered, never called: no context is needed beyond their constructor's)."""
    module = importlib.import_module(f"{service}.events.consumers")
    ctx = SimpleNamespace(unit_of_work=None, settings=SimpleNamespace(consumer_max_attempts=1))
    return tuple(ConsumerGroup(c.group, tuple(sorted(c.topics))) for c in module.build_consumers(ctx))


def services() -> list[Service]:
    return [Service(name, port, consumer_groups(name)) for name, port in API_PORTS.items()]


def max_worker_replicas(service: Service, all_topics: list[Topic]) -> int:
    """More consumers of a group than partitions would sit idle: KEDA stops at the smallest topic."""
    partitions = {t.name: t.partitions for t in all_topics}
    return min(partitions[topic] for group in service.groups for topic in group.topics)
