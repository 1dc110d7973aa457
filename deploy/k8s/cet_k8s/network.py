"""NetworkPolicies of a service (the namespace denies all ingress by default, base/network.yaml):
its api only from the gateway (so payment's notify paths are reached only through the gateway's
POST-only location), its worker only from monitoring, its database only from its own processes.
Egress too: each process reaches only what it uses (DNS, its own database or pooler, Kafka for the
workers, the gateway for passport's JWKS, the trace collector, and the outside world only where a
service talks to it: SMTP for passport's worker, HTTPS for payment's gateways)."""

from __future__ import annotations

from typing import Any

from cet_k8s.suite import KAFKA_CLUSTER, Service

Obj = dict[str, Any]
MONITORING = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
CNPG_OPERATOR = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}
GATEWAY = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
KAFKA = {"podSelector": {"matchLabels": {"strimzi.io/cluster": KAFKA_CLUSTER, "strimzi.io/kind": "Kafka"}}}
DNS = {
    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0"}}]


def policy(name: str, pod_labels: dict[str, str], rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "cet"}},
        "spec": {"podSelector": {"matchLabels": pod_labels}, "policyTypes": ["Ingress"], "ingress": rules},
    }


def rule(sources: list[Obj], *ports: int | str) -> Obj:
    return {"from": sources, "ports": [{"protocol": "TCP", "port": port} for port in ports]}


def own(service: Service, component: str) -> Obj:
    return {"podSelector": {"matchLabels": {"cet.io/service": service.name, "app.kubernetes.io/component": component}}}


def service_policies(service: Service) -> list[Obj]:
    cluster = {"cnpg.io/cluster": service.db_cluster}
    pooler = {"cnpg.io/poolerName": service.pooler}
    return [
        # /metrics is served on the api's own port: monitoring scrapes it there
        policy(f"{service.name}-api", {"app.kubernetes.io/name": f"{service.name}-api"}, [rule([GATEWAY, MONITORING], "http")]),
        policy(f"{service.name}-worker", {"app.kubernetes.io/name": f"{service.name}-worker"}, [rule([MONITORING], "metrics")]),
        policy(
            service.pooler,
            pooler,
            [rule([own(service, "api")], 5432), rule([MONITORING], 9127)],
        ),
        policy(
            service.db_cluster,
            cluster,
            [
                # the relay's session (advisory lock) and the migrations bypass the pooler
                rule([own(service, "worker"), own(service, "migration"), {"podSelector": {"matchLabels": pooler}}], 5432),
                # streaming replication between the cluster's own instances
                rule([{"podSelector": {"matchLabels": cluster}}], 5432),
                # the operator: instance status and the superuser it manages
                rule([CNPG_OPERATOR], 5432, 8000),
                rule([MONITORING], 9187),
            ],
        ),
    ]


def egress(name: str, pod_labels: dict[str, str], rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-egress", "labels": {"app.kubernetes.io/part-of": "cet"}},
        "spec": {"podSelector": {"matchLabels": pod_labels}, "policyTypes": ["Egress"], "egress": [DNS, *rules]},
    }


def to(destinations: list[Obj], *ports: int) -> Obj:
    return {"to": destinations, "ports": [{"protocol": "TCP", "port": port} for port in ports]}


def service_egress(service: Service) -> list[Obj]:
    database = {"podSelector": {"matchLabels": {"cnpg.io/cluster": service.db_cluster}}}
    pooler = {"podSelector": {"matchLabels": {"cnpg.io/poolerName": service.pooler}}}
    common = [to([GATEWAY], 8080), to([MONITORING], 4317, 4318)]  # JWKS through the gateway; OTLP
    outside = {"passport": [to(ANYWHERE, 25, 465, 587)], "payment": [to(ANYWHERE, 443)]}.get(service.name, [])
    return [
        egress(
            f"{service.name}-api",
            {"app.kubernetes.io/name": f"{service.name}-api"},
            [to([pooler], 5432), *common, *(outside if service.name == "payment" else [])],
        ),
        egress(f"{service.name}-worker", {"app.kubernetes.io/name": f"{service.name}-worker"}, [to([database], 5432), to([KAFKA], 9092), *common, *outside]),
        egress(f"{service.name}-migrate", {"cet.io/service": service.name, "app.kubernetes.io/component": "migration"}, [to([database], 5432)]),
    ]
