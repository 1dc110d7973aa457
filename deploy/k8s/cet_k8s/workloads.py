"""Deployments, Services, PodDisruptionBudgets, migration Jobs and autoscalers of the services."""

from __future__ import annotations

from typing import Any

from cet_k8s.suite import KAFKA_BOOTSTRAP, WORKER_METRICS_PORT, Service, Topic, max_worker_replicas

IMAGE = "cet-registration/services"  # the overlays pin the tag (kustomize `images:`)
# preStop: Kubernetes takes a terminating pod out of its Service's endpoints at once (its
# EndpointSlice condition `ready` turns false before the hook runs); the pause lets the gateway's
# pooled connections and kube-proxy catch up while the process still answers. Only then SIGTERM:
# uvicorn finishes the requests in flight, a worker commits what it applied and leaves its group.
DRAIN_SECONDS = 10
GRACE_SECONDS = 45

Obj = dict[str, Any]


def labels(service: Service, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": f"{service.name}-{component}",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "cet",
        "cet.io/service": service.name,
    }


def selector(service: Service, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"{service.name}-{component}"}


def secret_env(name: str, secret: str, key: str) -> Obj:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def service_env(service: Service, *, pooled: bool) -> list[Obj]:
    """The database URL is put together from CloudNativePG's generated `<cluster>-app` Secret:
    the apis through the PgBouncer pooler (transaction mode), workers and migrations directly (the
    relay's leader lock is a session-level advisory lock; DDL wants a session too)."""
    host = service.pooler if pooled else f"{service.db_cluster}-rw"
    env = [
        secret_env("DB_USER", f"{service.db_cluster}-app", "username"),
        secret_env("DB_PASSWORD", f"{service.db_cluster}-app", "password"),
        {"name": f"DATABASE_URL_{service.name.upper()}", "value": f"postgresql://$(DB_USER):$(DB_PASSWORD)@{host}:5432/{service.name}"},
        secret_env("CAPTCHA_SECRET", "cet-captcha", "secret"),
        # service.instance.id of traces and `instance` of logs: one per replica
        {"name": "SERVICE_INSTANCE_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    if service.name == "passport":
        env.append({"name": "JWT_PRIVATE_KEY_FILE", "value": "/run/secrets/jwt/private-key.pem"})
        # Staff TOTP seeds' keys (passport.domain.seed_seal); optional here, so without the Secret a
        # production passport (and its migration) refuses to start rather than the pod never creating.
        seed_keys = secret_env("PASSPORT_TOTP_SEED_KEYS", "passport-totp-seed-keys", "keys")
        seed_keys["valueFrom"]["secretKeyRef"]["optional"] = True
        env.append(seed_keys)
    if service.name == "payment":
        env += [
            {"name": "ALIPAY_APP_PRIVATE_KEY_FILE", "value": "/run/secrets/payment/app_private_key.pem"},
            {"name": "ALIPAY_PUBLIC_KEY_FILE", "value": "/run/secrets/payment/alipay_public_key.pem"},
            {"name": "PAYEASE_KEY_FILE", "value": "/run/secrets/payment/payease_key"},
        ]
    return env


def env_from(service: Service) -> list[Obj]:
    sources = [{"configMapRef": {"name": "cet-settings"}}]
    if service.name == "payment":
        sources.append({"configMapRef": {"name": "payment-gateways"}})
    return sources


def secret_volumes(service: Service, *, keys: bool = True) -> tuple[list[Obj], list[Obj]]:
    """A writable /tmp (the root filesystem is read-only) and, with `keys`, the service's key files
    (migrations read settings, never the keys: their Job mounts none)."""
    volumes: list[Obj] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    mounts: list[Obj] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - an emptyDir mount inside the pod
    if not keys:
        return volumes, mounts
    if service.name == "passport":
        volumes.append({"name": "jwt", "secret": {"secretName": "passport-jwt", "defaultMode": 0o440}})
        mounts.append({"name": "jwt", "mountPath": "/run/secrets/jwt", "readOnly": True})
    if service.name == "payment":
        volumes.append({"name": "gateway-keys", "secret": {"secretName": "payment-gateway-keys", "defaultMode": 0o440}})
        mounts.append({"name": "gateway-keys", "mountPath": "/run/secrets/payment", "readOnly": True})
    return volumes, mounts


CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def probes(port: str) -> Obj:
    def get(path: str, period: int, failures: int) -> Obj:
        return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": 2, "failureThreshold": failures}

    return {
        # up to 60 s to import, connect and migrate-check before liveness starts counting
        "startupProbe": get("/healthz", 2, 30),
        # /readyz asks the database: a replica that lost it leaves the endpoints, is not restarted
        "readinessProbe": get("/readyz", 5, 2),
        "livenessProbe": get("/healthz", 10, 3),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(DRAIN_SECONDS)]}}},
    }


def spread(service: Service, component: str) -> list[Obj]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(service, component)},
            "matchLabelKeys": ["pod-template-hash"],
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def pod_spec(containers: list[Obj], volumes: list[Obj], **extra: Any) -> Obj:
    return {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": POD_SECURITY,
        "containers": containers,
        "volumes": volumes,
        **extra,
    }


def container(service: Service, component: str, command: list[str], *, pooled: bool, port: tuple[str, int] | None) -> Obj:
    _, mounts = secret_volumes(service, keys=component != "migrate")
    spec: Obj = {
        "name": component,
        "image": IMAGE,
        "command": command,
        "envFrom": env_from(service),
        "env": service_env(service, pooled=pooled),
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": mounts,
    }
    if port:
        spec["ports"] = [{"name": port[0], "containerPort": port[1]}]
    return spec


def deployment(service: Service, component: str) -> Obj:
    api = component == "api"
    port = ("http", service.api_port) if api else ("metrics", WORKER_METRICS_PORT)
    command = [f"{service.name}-api", "--port", str(service.api_port)] if api else [f"{service.name}-worker"]
    main = container(service, component, command, pooled=api, port=port)
    if not api:  # the worker's own HTTP port: /metrics, /healthz, /readyz
        main["env"] += [{"name": "WORKER_METRICS_PORT", "value": str(WORKER_METRICS_PORT)}, {"name": "WORKER_METRICS_HOST", "value": "0.0.0.0"}]  # noqa: S104 - inside the pod: the kubelet probes it
    main |= probes(port[0])
    main["resources"] = (
        {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
        if api
        else {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
    )
    volumes, _ = secret_volumes(service)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{service.name}-{component}", "labels": labels(service, component)},
        # no `replicas`: the HPA (enrolment-api), KEDA (workers) or the overlay's patch sets them
        "spec": {
            "selector": {"matchLabels": selector(service, component)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {
                    "labels": labels(service, component),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(port[1]), "prometheus.io/path": "/metrics"},
                },
                "spec": pod_spec(
                    [main],
                    volumes,
                    terminationGracePeriodSeconds=GRACE_SECONDS,
                    topologySpreadConstraints=spread(service, component),
                ),
            },
        },
    }


def api_service(service: Service) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{service.name}-api", "labels": labels(service, "api")},
        "spec": {"selector": selector(service, "api"), "ports": [{"name": "http", "port": service.api_port, "targetPort": "http"}]},
    }


def disruption_budget(service: Service, component: str) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{service.name}-{component}", "labels": labels(service, component)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(service, component)}},
    }


def migration_job(service: Service) -> Obj:
    """deploy/k8s/rollout.sh runs it to completion before it applies the new Deployments."""
    main = container(service, "migrate", [f"{service.name}-admin", "migrate"], pooled=False, port=None)
    main["resources"] = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
    volumes, _ = secret_volumes(service, keys=False)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{service.name}-migrate", "labels": labels(service, "migration")},
        "spec": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": 900,
            "template": {
                "metadata": {"labels": labels(service, "migration")},
                "spec": pod_spec([main], volumes, restartPolicy="Never"),
            },
        },
    }


def enrolment_hpa(service: Service) -> Obj:
    """O1: enrolment-api scales on CPU and on requests per second per pod (the Prometheus adapter
    serves `cet_http_requests_per_second` from the apis' /metrics; rule in docs/operations.md)."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"{service.name}-api", "labels": labels(service, "api")},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{service.name}-api"},
            "minReplicas": 2,
            "maxReplicas": 12,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {
                    "type": "Pods",
                    "pods": {"metric": {"name": "cet_http_requests_per_second"}, "target": {"type": "AverageValue", "averageValue": "80"}},
                },
            ],
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}]},
                "scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
            },
        },
    }


def worker_scaler(service: Service, all_topics: list[Topic]) -> Obj:
    """Workers scale on consumer lag, one trigger per (group, topic); never beyond the partitions
    (an extra consumer would get none) and never below one: the worker also runs the outbox relay
    and the periodic jobs."""
    triggers = [
        {
            "type": "kafka",
            "name": f"{group.name}-{topic}".replace(".", "-"),
            "metadata": {
                "bootstrapServers": KAFKA_BOOTSTRAP,
                "consumerGroup": group.name,
                "topic": topic,
                "lagThreshold": "200",
                "activationLagThreshold": "0",
                "offsetResetPolicy": "earliest",
            },
        }
        for group in service.groups
        for topic in group.topics
    ]
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": f"{service.name}-worker", "labels": labels(service, "worker")},
        "spec": {
            "scaleTargetRef": {"name": f"{service.name}-worker"},
            "minReplicaCount": 1,
            "maxReplicaCount": max_worker_replicas(service, all_topics),
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "triggers": triggers,
        },
    }


def api_objects(service: Service) -> list[Obj]:
    objects = [deployment(service, "api"), api_service(service), disruption_budget(service, "api")]
    if service.name == "enrolment":
        objects.append(enrolment_hpa(service))
    return objects


def worker_objects(service: Service, all_topics: list[Topic]) -> list[Obj]:
    return [deployment(service, "worker"), disruption_budget(service, "worker"), worker_scaler(service, all_topics)]
