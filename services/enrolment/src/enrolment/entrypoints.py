"""`enrolment-api` and `enrolment-worker` (ports: deploy/topology.toml)."""

from __future__ import annotations

from cet_shared.entrypoints import ServiceProcesses

PROCESSES = ServiceProcesses("enrolment", api_port=8003)
run_api = PROCESSES.run_api
run_worker = PROCESSES.run_worker
