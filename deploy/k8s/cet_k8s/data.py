"""Strimzi KafkaTopics (from deploy/topics.toml) and a CloudNativePG Cluster and Pooler per service."""

from __future__ import annotations

from typing import Any

from cet_k8s.suite import KAFKA_CLUSTER, Service, Topic

Obj = dict[str, Any]
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:15.13"  # the major version `make up` runs (Debian's 15)


def kafka_topic(topic: Topic) -> Obj:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {
            # topic names are valid object names already (lower case, dots); spec.topicName says it anyway
            "name": topic.name,
            "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": "cet"},
        },
        "spec": {
            "topicName": topic.name,
            "partitions": topic.partitions,
            "replicas": topic.replication_factor,
            "config": {
                "min.insync.replicas": topic.min_insync_replicas,
                "retention.ms": topic.retention_ms,
                "cleanup.policy": topic.cleanup_policy,
            },
        },
    }


def database(service: Service) -> Obj:
    """One PostgreSQL cluster per service (each service owns its database). The operator generates
    the `<cluster>-app` Secret (username, password) the services read; nothing is in the repo."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": service.db_cluster, "labels": {"app.kubernetes.io/part-of": "cet", "cet.io/service": service.name}},
        "spec": {
            "instances": 3,
            "imageName": POSTGRES_IMAGE,
            "primaryUpdateStrategy": "unsupervised",
            "bootstrap": {"initdb": {"database": service.name, "owner": service.name}},
            "postgresql": {
                "parameters": {
                    # the apis' pods reach it through PgBouncer; workers and migrations connect directly
                    "max_connections": "300",
                    "shared_buffers": "512MB",
                    "timezone": "UTC",
                }
            },
            "storage": {"size": "20Gi"},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
            "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname", "podAntiAffinityType": "preferred"},
        },
    }


def pooler(service: Service) -> Obj:
    """PgBouncer in transaction mode for the apis. asyncpg (and SQLAlchemy over it) prepares every
    statement with protocol-level named statements; PgBouncer >= 1.21 follows them across server
    connections when `max_prepared_statements` is set, so the services keep their statement caches
    and need no pooler-specific engine setting."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Pooler",
        "metadata": {"name": service.pooler, "labels": {"app.kubernetes.io/part-of": "cet", "cet.io/service": service.name}},
        "spec": {
            "cluster": {"name": service.db_cluster},
            "instances": 2,
            "type": "rw",
            "pgbouncer": {
                "poolMode": "transaction",
                "parameters": {
                    "max_prepared_statements": "500",
                    "max_client_conn": "2000",
                    "default_pool_size": "40",
                    "server_reset_query_always": "0",
                },
            },
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/part-of": "cet", "cet.io/service": service.name}},
                "spec": {
                    "containers": [
                        {
                            "name": "pgbouncer",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
                        }
                    ],
                },
            },
        },
    }
