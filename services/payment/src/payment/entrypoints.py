from __future__ import annotations

from cet_shared.entrypoints import serve_api
from cet_shared.telemetry import setup_logging, setup_tracing
from cet_shared.worker import run_until_signalled

API_PORT = 8004
SANDBOX_PORT = 8090


def run_api(argv: list[str] | None = None) -> None:
    serve_api("payment.api.app:create_app", default_port=API_PORT, argv=argv)


def run_worker() -> None:
    from payment.bootstrap import bootstrap
    from payment.worker import build_worker

    setup_logging()
    ctx = bootstrap()
    setup_tracing("payment-worker", ctx.settings.otel_exporter_otlp_endpoint)
    run_until_signalled(build_worker(ctx))


def run_sandbox(argv: list[str] | None = None) -> None:
    """payment-sandbox: the local emulator of Alipay and PayEase (never in production)."""
    serve_api("payment.sandbox.app:create_app", default_port=SANDBOX_PORT, argv=argv)
