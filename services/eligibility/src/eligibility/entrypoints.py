from __future__ import annotations

from cet_shared.entrypoints import serve_api
from cet_shared.telemetry import setup_logging, setup_tracing
from cet_shared.worker import run_until_signalled

API_PORT = 8002


def run_api(argv: list[str] | None = None) -> None:
    serve_api("eligibility.api.app:create_app", default_port=API_PORT, argv=argv)


def run_worker() -> None:
    from eligibility.bootstrap import bootstrap
    from eligibility.worker import build_worker

    setup_logging()
    ctx = bootstrap()
    setup_tracing("eligibility-worker", ctx.settings.otel_exporter_otlp_endpoint)
    run_until_signalled(build_worker(ctx))
