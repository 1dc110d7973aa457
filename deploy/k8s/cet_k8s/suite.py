"""What the cluster manifests are made of: the suite's processes, read from deploy/topology.toml,
the code and deploy/topics.toml, so a new process, consumer group or topic reaches the cluster by
re-running the generator."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from cet_shared.topics import Topic, load as load_topics

REPO = Path(__file__).resolve().parents[3]
TOPICS_TOML = REPO / "deploy" / "topics.toml"
sys.path.insert(0, str(REPO / "deploy"))
from topology import load as load_topology  # noqa: E402 - deploy/ on the path first

# Every process of the suite (deploy/topology.toml; deploy/local/suite.sh starts the same ones);
# every worker serves /metrics, /healthz and /readyz on the containers' worker port.
TOPOLOGY = load_topology()
API_PORTS = {service: TOPOLOGY.api(service).port for service in TOPOLOGY.services}
WORKER_METRICS_PORT = TOPOLOGY.container_worker_port
SANDBOX_PORT = next(p.port for p in TOPOLOGY.processes if p.role == "sandbox")
KAFKA_CLUSTER = "cet-kafka"
KAFKA_BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:9092"


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
    return load_topics(TOPICS_TOML)


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
