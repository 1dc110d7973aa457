from __future__ import annotations

from fastapi import FastAPI

from cet_shared import audit_api
from cet_shared.auth import TokenVerifier
from cet_shared.web import create_service_app
from passport.api.routes import accounts, captcha, keys, staff_accounts, staff_login
from passport.bootstrap import PassportContainer, bootstrap
from passport.events.consumers import build_consumers


def create_app(ctx: PassportContainer | None = None) -> FastAPI:
    """The passport api. Tests pass their own wired context; production wires from the environment."""
    return create_service_app(
        "passport",
        title="CET 通行证 (passport)",
        routers=(captcha.router, accounts.router, keys.router, staff_login.router, staff_accounts.router, audit_api.router),
        context=ctx,
        bootstrap=bootstrap,
        consumers=build_consumers,
        # Passport verifies its own tokens the same way every other service does, from its JWKS.
        verifier=lambda passport: TokenVerifier(passport.signer.jwks(), issuer=passport.settings.jwt_issuer, audience=passport.settings.jwt_audience),
    )
