"""The suite's processes as deploy/topology.toml declares them, for every reader of it.

    from topology import load            (scripts under deploy/ put deploy/ on sys.path)
    python3 deploy/topology.py local     one line per process of `make up`: NAME PORT ROLE HEALTH COMMAND
                                         (the gateway first)

Standard library only: suite.sh and render.py run before any project venv exists.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DECLARATION = Path(__file__).resolve().parent / "topology.toml"
LOCAL_REPLICA_PORT_STEP = 10  # on one host, replica n listens on port + 10·(n−1)


@dataclass(frozen=True)
class Process:
    name: str
    service: str
    role: str  # api | worker | sandbox
    command: str
    port: int
    replicas: int
    health: str
    ready: str
    gateway_upstream: str | None = None  # CET_GW_* of one host:port
    gateway_servers: str | None = None  # CET_GW_* of nginx `server` lines

    def instances(self, replicas: int | None = None) -> list[tuple[str, int]]:
        """(name, port) of each replica on one host: enrolment-api-1 8003, enrolment-api-2 8013."""
        count = self.replicas if replicas is None else replicas
        if count == 1:
            return [(self.name, self.port)]
        return [(f"{self.name}-{n}", self.port + LOCAL_REPLICA_PORT_STEP * (n - 1)) for n in range(1, count + 1)]


@dataclass(frozen=True)
class Topology:
    gateway_port: int
    gateway_health: str
    container_worker_port: int
    processes: tuple[Process, ...]

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys(p.service for p in self.processes))

    def of(self, service: str, role: str) -> Process | None:
        return next((p for p in self.processes if p.service == service and p.role == role), None)

    def api(self, service: str) -> Process:
        process = self.of(service, "api")
        assert process is not None, f"{service} has no api in {DECLARATION}"
        return process

    def gateway_env(self, addresses: Callable[[Process], list[str]], *, server_options: str) -> dict[str, str]:
        """The gateway template's upstream variables: `addresses(api)` gives its host:port list
        (a replicated api may be one name in front of every replica: then one address)."""
        env = {}
        for process in self.processes:
            if process.gateway_upstream:
                (address,) = addresses(process)
                env[process.gateway_upstream] = address
            if process.gateway_servers:
                env[process.gateway_servers] = " ".join(f"server {a} {server_options};" for a in addresses(process))
        return env


def load(path: Path = DECLARATION) -> Topology:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    processes = []
    for entry in document["process"]:
        gateway = entry.get("gateway", {})
        processes.append(
            Process(
                name=entry["name"],
                service=entry["service"],
                role=entry["role"],
                command=entry["command"],
                port=entry["port"],
                replicas=entry.get("replicas", 1),
                health=entry["health"],
                ready=entry["ready"],
                gateway_upstream=gateway.get("upstream"),
                gateway_servers=gateway.get("servers"),
            )
        )
    return Topology(
        gateway_port=document["gateway"]["port"],
        gateway_health=document["gateway"]["health"],
        container_worker_port=document["containers"]["worker_port"],
        processes=tuple(processes),
    )


def local_addresses(process: Process) -> list[str]:
    return [f"127.0.0.1:{port}" for _, port in process.instances()]


def _print_local(topology: Topology) -> None:
    print("gateway", topology.gateway_port, "gateway", topology.gateway_health, "nginx")
    for process in topology.processes:
        for name, port in process.instances():
            print(name, port, process.role, process.health, process.command)


if __name__ == "__main__":
    if sys.argv[1:] != ["local"]:
        raise SystemExit(__doc__)
    _print_local(load())
