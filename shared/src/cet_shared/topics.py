"""The topic manifest (deploy/topics.toml) and creating its topics with Kafka's admin API.

Brokers run with `auto.create.topics.enable=false`: a topic exists because the manifest lists it,
so a typo in a topic name fails loudly instead of creating a new, unread topic.

    python -m cet_shared.topics create --bootstrap HOST:PORT [--prefix P] [--replication-factor 1]
"""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[3] / "deploy" / "topics.toml"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    retention_ms: int
    cleanup_policy: str
    dead_letters_of: str | None = None

    def configs(self, *, replication_factor: int) -> dict[str, str]:
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
            "min.insync.replicas": str(min(self.min_insync_replicas, replication_factor)),
        }


def load(path: Path = MANIFEST) -> list[Topic]:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults = document.get("defaults", {})
    fields = ("partitions", "replication_factor", "min_insync_replicas", "retention_ms", "cleanup_policy")
    return [
        Topic(name=entry["name"], dead_letters_of=entry.get("dead_letters_of"), **{f: entry.get(f, defaults[f]) for f in fields}) for entry in document["topic"]
    ]


async def create(
    bootstrap: str, *, prefix: str = "", replication_factor: int = 1, max_partitions: int | None = None, extra: tuple[str, ...] = (), path: Path = MANIFEST
) -> list[str]:
    """Create the manifest's topics (and `extra` ones, e.g. a test's own dead-letter topic, with one
    partition) under `prefix`; those that exist are left as they are. Returns the names created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topics = load(path)
    wanted = [
        NewTopic(
            prefix + t.name,
            num_partitions=min(t.partitions, max_partitions or t.partitions),
            replication_factor=replication_factor,
            topic_configs=t.configs(replication_factor=replication_factor),
        )
        for t in topics
    ]
    wanted += [NewTopic(prefix + name, num_partitions=1, replication_factor=replication_factor) for name in extra]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            response = await admin.create_topics(missing)
            # 36: it exists (created meanwhile by someone else), as good as created
            failed = [(name, code, message) for name, code, *rest in response.topic_errors for message in (rest[0] if rest else "",) if code not in (0, 36)]
            if failed:
                raise RuntimeError(f"could not create topics: {failed}")
        return [t.name for t in missing]
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cet_shared.topics")
    commands = parser.add_subparsers(dest="command", required=True)
    creating = commands.add_parser("create", help="create the manifest's topics that do not exist yet")
    creating.add_argument("--bootstrap", required=True)
    creating.add_argument("--prefix", default="")
    creating.add_argument("--replication-factor", type=int, default=1)
    creating.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)
    made = asyncio.run(create(args.bootstrap, prefix=args.prefix, replication_factor=args.replication_factor, path=args.manifest))
    print(f"topics: {len(made)} created" + (f" ({', '.join(made)})" if made else ", all present"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
