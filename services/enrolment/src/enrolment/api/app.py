from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cet_shared.auth import TokenVerifier
from cet_shared.telemetry import instrument_app, setup_tracing
from cet_shared.web import create_app as create_service_app
from enrolment.api.routes import candidates, ops, teachers
from enrolment.bootstrap import Enrolment, bootstrap


def create_app(ctx: Enrolment | None = None, *, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """The enrolment api; any number of replicas may serve it against one database (O1)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        enrolment = ctx or bootstrap()
        setup_tracing("enrolment", enrolment.settings.otel_exporter_otlp_endpoint)
        app.state.enrolment = enrolment
        app.state.engine = enrolment.engine
        app.state.token_verifier = token_verifier or TokenVerifier(
            enrolment.settings.jwks_url, issuer=enrolment.settings.jwt_issuer, audience=enrolment.settings.jwt_audience
        )
        try:
            yield
        finally:
            if ctx is None:
                await enrolment.close()

    app = create_service_app(title="CET 报考 (enrolment)", lifespan=lifespan)
    for router in (candidates.router, ops.router, teachers.router):
        app.include_router(router)
    instrument_app(app)
    return app
