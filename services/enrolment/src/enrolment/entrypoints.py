from __future__ import annotations

from cet_shared.entrypoints import serve_api
from cet_shared.telemetry import setup_logging, setup_tracing
from cet_shared.worker import run_until_signalled

API_PORT = 8003  # a second replica listens on 8013 (`enrolment-api --port 8013`)


def run_api(argv: list[str] | None = None) -> None:
    serve_api("enrolment.api.app:create_app", default_port=API_PORT, argv=argv)


def run_worker() -> None:
    from enrolment.bootstrap import bootstrap
    from enrolment.worker import build_worker

    setup_logging()
    ctx = bootstrap()
    setup_tracing("enrolment-worker", ctx.settings.otel_exporter_otlp_endpoint)
    run_until_signalled(build_worker(ctx))
