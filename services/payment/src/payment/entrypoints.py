"""`payment-api` and `payment-worker` (ports: deploy/topology.toml)."""

from __future__ import annotations

from cet_shared.entrypoints import ServiceProcesses, serve_api

PROCESSES = ServiceProcesses("payment", api_port=8004)
SANDBOX_PORT = 8090
run_api = PROCESSES.run_api
run_worker = PROCESSES.run_worker


def run_sandbox(argv: list[str] | None = None) -> None:
    """payment-sandbox: the local emulator of Alipay and PayEase (never in production)."""
    serve_api("payment.sandbox.app:create_app", default_port=SANDBOX_PORT, argv=argv)
