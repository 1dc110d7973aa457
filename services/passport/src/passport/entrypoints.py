"""`passport-api` and `passport-worker` (ports: deploy/topology.toml)."""

from __future__ import annotations

from cet_shared.entrypoints import ServiceProcesses

PROCESSES = ServiceProcesses("passport", api_port=8001)
run_api = PROCESSES.run_api
run_worker = PROCESSES.run_worker
