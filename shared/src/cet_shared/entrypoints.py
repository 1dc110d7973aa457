"""Process entry points shared by the services: `<svc>-api [--port N]` and `<svc>-worker`.

A service's entrypoints.py is `ServiceProcesses("<svc>", api_port=…)`; its api factory, composition
root and worker builder are found by the layout every service has (`<svc>.api.app:create_app`,
`<svc>.bootstrap:bootstrap`, `<svc>.worker:build_worker`). The ports are declared in
deploy/topology.toml (a test checks these defaults against it).
"""

from __future__ import annotations

import argparse
import importlib
import os
from dataclasses import dataclass

import uvicorn

from cet_shared.logs import identify, setup_logging
from cet_shared.telemetry import setup_tracing


def serve_api(app_factory: str, *, default_port: int, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"serve {app_factory}")
    parser.add_argument("--host", default=os.environ.get("API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("API_PORT", default_port)))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    setup_logging()
    module = app_factory.split(":")[0].split(".")
    identify(f"{module[0]}-{'sandbox' if 'sandbox' in module else 'api'}")  # until the app's lifespan names it
    uvicorn.run(
        app_factory,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # The gateway's X-Forwarded-For is trusted from loopback only: rate limits see the candidate.
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=False,
        log_config=None,  # uvicorn's own lines go through our JSON formatter too
        server_header=False,
        # Deadlines for the request head and body (uvicorn has only the keep-alive one).
        http="cet_shared.slow_clients:TimedHttpProtocol",
    )


@dataclass(frozen=True)
class ServiceProcesses:
    service: str
    api_port: int

    def run_api(self, argv: list[str] | None = None) -> None:
        serve_api(f"{self.service}.api.app:create_app", default_port=self.api_port, argv=argv)

    def run_worker(self) -> None:
        from cet_shared.worker import run_until_signalled

        setup_logging()
        container = importlib.import_module(f"{self.service}.bootstrap").bootstrap()
        setup_tracing(f"{self.service}-worker", container.settings.otel_exporter_otlp_endpoint)
        run_until_signalled(importlib.import_module(f"{self.service}.worker").build_worker(container))
