"""deploy/k8s: every overlay renders with kustomize and every object it holds passes its schema
(Kubernetes' or the vendored CRD's); the properties issue 12 asks of the cluster hold in the
rendered objects, so a patch cannot quietly undo them."""

from __future__ import annotations

import copy
import importlib.util
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml
from k8s_validation import K8S, REPO, crd_schemas, render, validate

OVERLAYS = ("dev", "production")
# CloudNativePG's admission webhook refuses other PgBouncer parameters (v1.30.0,
# internal/webhook/v1/pooler_webhook.go, AllowedPgbouncerGenericConfigurationParameters: the ones we may want)
PGBOUNCER_ALLOWED = {
    "default_pool_size",
    "max_client_conn",
    "max_db_connections",
    "max_prepared_statements",
    "min_pool_size",
    "query_wait_timeout",
    "reserve_pool_size",
    "server_idle_timeout",
    "server_lifetime",
    "idle_transaction_timeout",
}
SERVICES = ("passport", "eligibility", "enrolment", "payment")


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_every_rendered_object_passes_its_schema(rendered: tuple[str, list[dict]]) -> None:
    overlay, objects = rendered
    assert len(objects) > 60, overlay
    failures = []
    for obj in objects:
        try:
            validate(obj)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


def test_the_validation_rejects_what_an_api_server_would() -> None:
    """The checks are not vacuous: a typo'd field or a wrong type fails in each schema family."""
    objects = render("dev")
    broken = []
    deployment = copy.deepcopy(by_kind(objects, "Deployment")["enrolment-api"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    broken.append(deployment)
    topic = copy.deepcopy(next(iter(by_kind(objects, "KafkaTopic").values())))
    topic["spec"]["partitions"] = "twelve"
    broken.append(topic)
    pooler = copy.deepcopy(next(iter(by_kind(objects, "Pooler").values())))
    pooler["spec"]["pgbouncer"]["poolMode"] = "statement-ish"
    broken.append(pooler)
    scaler = copy.deepcopy(next(iter(by_kind(objects, "ScaledObject").values())))
    scaler["spec"]["maxReplicas"] = 3
    broken.append(scaler)
    unknown = {"apiVersion": "example.io/v1", "kind": "Thing", "metadata": {"name": "x"}}
    broken.append(unknown)
    for obj in broken:
        with pytest.raises(AssertionError):
            validate(obj)
    assert {kind for _, kind in crd_schemas()} >= {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "Pooler", "ScaledObject"}


def test_generated_manifests_are_current() -> None:
    spec = importlib.util.spec_from_file_location("cet_k8s_generate", K8S / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    stale = [str(p.relative_to(REPO)) for p in generate.stale(generate.render_all())]
    assert not stale, f"re-run `uv run python deploy/k8s/generate.py`: {stale}"


def test_the_base_lists_every_manifest_it_holds() -> None:
    base = K8S / "base"
    listed = set(yaml.safe_load((base / "kustomization.yaml").read_text(encoding="utf-8"))["resources"])
    present = {str(p.relative_to(base)) for p in base.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert listed == present


def test_every_process_is_probed_drained_sized_and_spread(rendered: tuple[str, list[dict]]) -> None:
    overlay, objects = rendered
    deployments = by_kind(objects, "Deployment")
    budgets = {pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for pdb in by_kind(objects, "PodDisruptionBudget").values()}
    for name in [f"{s}-{c}" for s in SERVICES for c in ("api", "worker")] + ["gateway"]:
        pod = deployments[name]["spec"]["template"]["spec"]
        main = pod["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert main[probe]["httpGet"]["port"] in ("http", "metrics"), (name, probe)
        if name != "gateway":
            assert main["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert main["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep", name
        # the drain pause fits in the grace period, with room for the requests in flight
        assert int(main["lifecycle"]["preStop"]["exec"]["command"][1]) + 20 <= pod["terminationGracePeriodSeconds"], name
        assert main["resources"]["requests"] and main["resources"]["limits"], name
        assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} >= {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        assert name in budgets, f"{name} has no PodDisruptionBudget"
        assert pod["securityContext"]["runAsNonRoot"] is True, name
    workers = [deployments[f"{s}-worker"]["spec"]["template"]["spec"]["containers"][0] for s in SERVICES]
    assert all(w["ports"] == [{"name": "metrics", "containerPort": 9100}] for w in workers)
    # the port the probes and Prometheus use is the one the worker opens (0 would open none)
    assert all({"name": "WORKER_METRICS_PORT", "value": "9100"} in w["env"] for w in workers)
    jobs = by_kind(objects, "Job")
    assert {f"{s}-migrate" for s in SERVICES} <= set(jobs)
    for service in SERVICES:
        assert jobs[f"{service}-migrate"]["spec"]["template"]["spec"]["containers"][0]["command"] == [f"{service}-admin", "migrate"]
    # the sandbox is a development tool: never deployed with the real payment platforms
    assert ("payment-sandbox" in deployments) == (overlay == "dev")


def test_autoscaling_follows_load_and_stops_at_the_partitions(rendered: tuple[str, list[dict]]) -> None:
    """O1 on the cluster: enrolment-api scales out behind the gateway; workers follow their lag."""
    _, objects = rendered
    hpa = by_kind(objects, "HorizontalPodAutoscaler")["enrolment-api"]
    metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    assert metrics["Pods"]["pods"]["metric"]["name"] == "cet_http_requests_per_second"
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in by_kind(objects, "KafkaTopic").values()}
    scalers = by_kind(objects, "ScaledObject")
    assert set(scalers) == {f"{s}-worker" for s in SERVICES}
    for scaler in scalers.values():
        topics = [t["metadata"]["topic"] for t in scaler["spec"]["triggers"]]
        assert topics and all(t["type"] == "kafka" for t in scaler["spec"]["triggers"])
        assert 1 <= scaler["spec"]["minReplicaCount"] <= scaler["spec"]["maxReplicaCount"] <= min(partitions[t] for t in topics)


def test_kafka_is_kraft_with_three_brokers_and_every_declared_topic(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    kafka = by_kind(objects, "Kafka")["cet-kafka"]["spec"]["kafka"]
    pool = by_kind(objects, "KafkaNodePool")["dual-role"]["spec"]
    assert pool["replicas"] == 3 and set(pool["roles"]) == {"controller", "broker"}
    assert kafka["config"]["min.insync.replicas"] == 2 and kafka["config"]["default.replication.factor"] == 3
    assert kafka["config"]["auto.create.topics.enable"] is False
    declared = tomllib.loads((REPO / "deploy" / "topics.toml").read_text(encoding="utf-8"))["topic"]
    topics = {t["spec"]["topicName"]: t["spec"] for t in by_kind(objects, "KafkaTopic").values()}
    assert set(topics) == {t["name"] for t in declared}
    for spec in topics.values():
        assert spec["replicas"] == 3 and spec["config"]["min.insync.replicas"] == 2


def test_databases_pooling_and_network_isolation(rendered: tuple[str, list[dict]]) -> None:
    """O4: each service's database takes connections from that service only; O2/O3: an api
    (payment's notify paths included) takes them from the gateway only."""
    _, objects = rendered
    clusters, poolers = by_kind(objects, "Cluster"), by_kind(objects, "Pooler")
    policies = by_kind(objects, "NetworkPolicy")
    deployments = by_kind(objects, "Deployment")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for service in SERVICES:
        assert clusters[f"{service}-db"]["spec"]["bootstrap"]["initdb"]["database"] == service
        pgbouncer = poolers[f"{service}-db-pooler"]["spec"]["pgbouncer"]
        assert pgbouncer["poolMode"] == "transaction" and int(pgbouncer["parameters"]["max_prepared_statements"]) > 0
        assert set(pgbouncer["parameters"]) <= PGBOUNCER_ALLOWED
        url = f"DATABASE_URL_{service.upper()}"
        env = {c: {e["name"]: e for e in deployments[f"{service}-{c}"]["spec"]["template"]["spec"]["containers"][0]["env"]} for c in ("api", "worker")}
        assert f"@{service}-db-pooler:" in env["api"][url]["value"]
        assert f"@{service}-db-rw:" in env["worker"][url]["value"]  # the relay's session lock
        # the database's ingress names only this service's pods, the pooler, its replicas, the operator and monitoring
        sources = [peer for rule in policies[f"{service}-db"]["spec"]["ingress"] for peer in rule["from"]]
        for peer in sources:
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            assert (
                labels.get("cet.io/service") == service
                or labels.get("cnpg.io/cluster") == f"{service}-db"
                or labels.get("cnpg.io/poolerName") == f"{service}-db-pooler"
                or namespace in ("cnpg-system", "monitoring")
            ), peer
        # and going out: the api to its pooler only, worker and migration to their own database only
        for process, target in (
            ("api", {"cnpg.io/poolerName": f"{service}-db-pooler"}),
            ("worker", {"cnpg.io/cluster": f"{service}-db"}),
            ("migrate", {"cnpg.io/cluster": f"{service}-db"}),
        ):
            rules = policies[f"{service}-{process}-egress"]["spec"]["egress"]
            postgres = [peer for r in rules if {"protocol": "TCP", "port": 5432} in r.get("ports", []) for peer in r["to"]]
            assert postgres == [{"podSelector": {"matchLabels": target}}], (service, process, postgres)
        api_sources = policies[f"{service}-api"]["spec"]["ingress"][0]["from"]
        assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}} in api_sources
        assert all("podSelector" not in p or p["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "gateway"} for p in api_sources)


def referenced_secrets(obj: dict) -> set[str]:
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    names = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
    return names


def test_no_secret_is_in_the_manifests(rendered: tuple[str, list[dict]]) -> None:
    """Secrets come from Secret references only: the ones docs/operations.md tells operations to
    create, and the databases' `<svc>-db-app` that CloudNativePG makes (dev has no platform keys)."""
    overlay, objects = rendered
    assert not [o for o in objects if o["kind"] == "Secret"]
    expected = {"cet-captcha", "passport-jwt", "passport-totp-seed-keys"} | {f"{s}-db-app" for s in SERVICES}
    if overlay == "production":
        expected.add("payment-gateway-keys")
    assert set().union(*(referenced_secrets(o) for o in objects)) == expected
    runbook = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert all(f"create secret generic {name}" in runbook for name in expected - {f"{s}-db-app" for s in SERVICES})
    for obj in objects:
        for container in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for env in container.get("env", []):
                assert not any(word in env["name"] for word in ("PASSWORD", "SECRET", "KEY")) or "valueFrom" in env or env["value"].startswith("/"), (
                    env
                )  # a reference or a file path


def test_the_gateway_runs_the_local_gateways_template(rendered: tuple[str, list[dict]]) -> None:
    overlay, objects = rendered
    config = next(o for name, o in by_kind(objects, "ConfigMap").items() if name.startswith("gateway-config"))["data"]["cet.conf"]
    template = (REPO / "deploy" / "gateway" / "cet.conf.template").read_text(encoding="utf-8")
    # every location of deploy/gateway is in the cluster's config, the upstreams are the Services
    for line in template.splitlines():
        if line.strip().startswith("location"):
            assert line in config, line
    assert "server passport-api:8001" in config and "server enrolment-api:8003" in config
    assert "${CET_GW_" not in config
    deployment = by_kind(objects, "Deployment")["gateway"]["spec"]["template"]["spec"]
    assert deployment["volumes"][0]["configMap"]["name"].startswith("gateway-config")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nginx_accepts_the_cluster_gateway_config(overlay: str, tmp_path) -> None:
    """`nginx -t` on the rendered config, the cluster's Service names standing in as loopback
    addresses (nginx resolves upstream names when it loads a configuration)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    config = (K8S / "overlays" / overlay / "gateway" / "cet.conf").read_text(encoding="utf-8")
    config = re.sub(r"server ([a-z][a-z0-9-]*):(\d+)", r"server 127.0.0.1:\2", config)
    (tmp_path / "cet.conf").write_text(config, encoding="utf-8")
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{ {temp} include {tmp_path}/cet.conf; }}\n", encoding="utf-8")
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
