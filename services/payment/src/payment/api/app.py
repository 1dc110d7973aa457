from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cet_shared.auth import TokenVerifier
from cet_shared.telemetry import instrument_app, setup_tracing
from cet_shared.web import create_app as create_service_app
from payment.api.routes import notify, orders
from payment.bootstrap import Payment, bootstrap


def create_app(ctx: Payment | None = None, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """The payment api. Tests pass their own wired context and verifier."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        payment = ctx or bootstrap()
        setup_tracing("payment", payment.settings.otel_exporter_otlp_endpoint)
        app.state.payment = payment
        app.state.engine = payment.engine
        app.state.token_verifier = token_verifier or TokenVerifier(
            payment.settings.jwks_url, issuer=payment.settings.jwt_issuer, audience=payment.settings.jwt_audience
        )
        try:
            yield
        finally:
            if ctx is None:
                await payment.close()

    app = create_service_app(title="CET 支付 (payment)", lifespan=lifespan)
    for router in (orders.router, notify.router):
        app.include_router(router)
    instrument_app(app)
    return app
