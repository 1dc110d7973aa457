from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cet_shared.telemetry import instrument_app, setup_tracing
from cet_shared.web import create_app as create_service_app
from eligibility.api.routes import candidate, recovery, registry, review, support
from eligibility.bootstrap import Eligibility, bootstrap
from eligibility.settings import EligibilitySettings


def create_app(ctx: Eligibility | None = None) -> FastAPI:
    """The eligibility api. Tests pass their own wired context; production wires from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        eligibility = ctx or bootstrap()
        setup_tracing("eligibility", eligibility.settings.otel_exporter_otlp_endpoint)
        app.state.eligibility = eligibility
        app.state.engine = eligibility.engine
        app.state.token_verifier = eligibility.token_verifier
        try:
            yield
        finally:
            if ctx is None:
                await eligibility.close()

    # Registry files are the only large bodies (the import routes also stop reading at the limit);
    # every other request keeps the suite's 1 MB limit.
    max_import = ctx.settings.max_import_bytes if ctx else EligibilitySettings.model_fields["max_import_bytes"].default
    app = create_service_app(
        title="CET 资格 (eligibility)", lifespan=lifespan, body_limits={"/registry/students": max_import, "/registry/scores": max_import}
    )
    for router in (candidate.router, review.router, registry.router, support.router, recovery.router):
        app.include_router(router)
    instrument_app(app)
    return app
