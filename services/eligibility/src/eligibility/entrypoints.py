"""`eligibility-api` and `eligibility-worker` (ports: deploy/topology.toml)."""

from __future__ import annotations

from cet_shared.entrypoints import ServiceProcesses

PROCESSES = ServiceProcesses("eligibility", api_port=8002)
run_api = PROCESSES.run_api
run_worker = PROCESSES.run_worker
