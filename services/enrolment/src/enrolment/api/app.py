from __future__ import annotations

from fastapi import FastAPI

from cet_shared import audit_api
from cet_shared.auth import TokenVerifier
from cet_shared.web import create_service_app
from enrolment.api.routes import candidates, exports, news, ops, teachers
from enrolment.bootstrap import EnrolmentContainer, bootstrap
from enrolment.events.consumers import build_consumers
from enrolment.metrics import GAUGES


def create_app(ctx: EnrolmentContainer | None = None, *, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """The enrolment api; any number of replicas may serve it against one database (O1)."""
    return create_service_app(
        "enrolment",
        title="CET 报考 (enrolment)",
        routers=(candidates.router, news.router, ops.router, teachers.router, exports.router, audit_api.router),
        context=ctx,
        bootstrap=bootstrap,
        consumers=build_consumers,
        verifier=(lambda _: token_verifier) if token_verifier else None,
        gauges=GAUGES,
    )
