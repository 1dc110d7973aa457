from __future__ import annotations

from fastapi import FastAPI

from cet_shared import audit_api
from cet_shared.web import create_service_app
from eligibility.api.routes import candidate, exports, recovery, registry, review, support
from eligibility.bootstrap import EligibilityContainer, bootstrap
from eligibility.events.consumers import build_consumers
from eligibility.settings import EligibilitySettings


def create_app(ctx: EligibilityContainer | None = None) -> FastAPI:
    """The eligibility api. Tests pass their own wired context; production wires from the environment."""
    # Registry files are the only large bodies (the import routes also stop reading at the limit);
    # every other request keeps the suite's 1 MB limit.
    max_import = ctx.settings.max_import_bytes if ctx else EligibilitySettings.model_fields["max_import_bytes"].default
    return create_service_app(
        "eligibility",
        title="CET 资格 (eligibility)",
        routers=(candidate.router, review.router, registry.router, support.router, recovery.router, exports.router, audit_api.router),
        context=ctx,
        bootstrap=bootstrap,
        consumers=build_consumers,
        verifier=lambda eligibility: eligibility.token_verifier,
        body_limits={"/registry/students": max_import, "/registry/scores": max_import},
    )
