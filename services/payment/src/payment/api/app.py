from __future__ import annotations

from fastapi import FastAPI

from cet_shared import audit_api
from cet_shared.auth import TokenVerifier
from cet_shared.web import create_service_app
from payment.api.routes import conflicts, notify, orders
from payment.bootstrap import PaymentContainer, bootstrap
from payment.events.consumers import build_consumers


def create_app(ctx: PaymentContainer | None = None, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """The payment api. Tests pass their own wired context and verifier."""
    return create_service_app(
        "payment",
        title="CET 支付 (payment)",
        routers=(orders.router, notify.router, conflicts.router, audit_api.router),
        context=ctx,
        bootstrap=bootstrap,
        consumers=build_consumers,
        verifier=(lambda _: token_verifier) if token_verifier else None,
    )
