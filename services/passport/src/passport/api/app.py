from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cet_shared.auth import TokenVerifier
from cet_shared.telemetry import instrument_app, setup_tracing
from cet_shared.web import create_app as create_service_app
from passport.api.routes import accounts, captcha, keys
from passport.bootstrap import Passport, bootstrap


def create_app(ctx: Passport | None = None) -> FastAPI:
    """The passport api. Tests pass their own wired context; production wires from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        passport = ctx or bootstrap()
        setup_tracing("passport", passport.settings.otel_exporter_otlp_endpoint)
        app.state.passport = passport
        app.state.engine = passport.engine
        # Passport verifies its own tokens the same way every other service does, from its JWKS.
        app.state.token_verifier = TokenVerifier(
            passport.signer.jwks(), issuer=passport.settings.jwt_issuer, audience=passport.settings.jwt_audience
        )
        try:
            yield
        finally:
            if ctx is None:
                await passport.close()

    app = create_service_app(title="CET 通行证 (passport)", lifespan=lifespan)
    for router in (captcha.router, accounts.router, keys.router):
        app.include_router(router)
    instrument_app(app)
    return app
