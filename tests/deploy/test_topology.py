"""deploy/topology.toml is the one declaration of the suite's processes (issue 16): the compose
file generated from it is current, and every other reader agrees with it — the services' default
ports, the gateway's upstreams, `make up`'s process list and the cluster's ports."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy"))

import topology  # noqa: E402 - deploy/ on the path first

TOPOLOGY = topology.load()


def load_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_compose_file_is_generated_from_the_topology() -> None:
    compose = load_script(REPO / "deploy/docker/compose.py", "cet_compose")
    assert (REPO / "docker-compose.yml").read_text(encoding="utf-8") == compose.render(), "run python3 deploy/docker/compose.py"
    # and it follows the declaration: one more replica changes the file
    more = topology.Topology(
        TOPOLOGY.gateway_port,
        TOPOLOGY.gateway_health,
        TOPOLOGY.container_worker_port,
        tuple(p if p.name != "eligibility-api" else topology.Process(**{**p.__dict__, "replicas": 3}) for p in TOPOLOGY.processes),
    )
    assert "    deploy:\n      replicas: 3\n" in compose.render(more)


def test_every_api_defaults_to_its_declared_port() -> None:
    for service in TOPOLOGY.services:
        assert importlib.import_module(f"{service}.entrypoints").PROCESSES.api_port == TOPOLOGY.api(service).port, service
    sandbox = next(p for p in TOPOLOGY.processes if p.role == "sandbox")
    assert sandbox.port == importlib.import_module("payment.entrypoints").SANDBOX_PORT


def test_make_up_starts_the_declared_processes_on_their_ports() -> None:
    listed = subprocess.run([sys.executable, str(REPO / "deploy/topology.py"), "local"], capture_output=True, text=True, check=True).stdout.split("\n")
    gateway, *rows = [line.split(" ", 4) for line in listed if line]
    assert gateway[:2] == ["gateway", str(TOPOLOGY.gateway_port)]
    assert [(name, int(port)) for name, port, *_ in rows] == [i for p in TOPOLOGY.processes for i in p.instances()]
    assert ("enrolment-api-2", "8013") in {(r[0], r[1]) for r in rows}
    suite = (REPO / "deploy/local/suite.sh").read_text(encoding="utf-8")
    assert "deploy/topology.py local" in suite
    assert not any(str(p.port) in suite for p in TOPOLOGY.processes), "a port written into suite.sh"


def test_the_gateway_and_the_cluster_read_the_same_ports() -> None:
    render = load_script(REPO / "deploy/gateway/render.py", "cet_gateway_render_t")
    upstreams = render.local_upstreams()
    assert upstreams["CET_GW_PASSPORT"] == f"127.0.0.1:{TOPOLOGY.api('passport').port}"
    assert upstreams["CET_GW_ENROLMENT_SERVERS"].count("server 127.0.0.1:") == TOPOLOGY.api("enrolment").replicas
    sys.path.insert(0, str(REPO / "deploy/k8s"))
    suite = importlib.import_module("cet_k8s.suite")
    assert {s: TOPOLOGY.api(s).port for s in TOPOLOGY.services} == suite.API_PORTS
    assert TOPOLOGY.container_worker_port == suite.WORKER_METRICS_PORT
