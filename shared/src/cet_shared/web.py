"""The FastAPI application shape every service shares: problem+json errors, health checks,
/metrics, request ids and traces, and a body-size limit so no client can make us buffer megabytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, FastAPI, Response
from fastapi.telemetry import TelemetryConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cet_shared import audit
from cet_shared.asyncapi import asyncapi_document, consumed_by
from cet_shared.auth import TokenVerifier, current_principal
from cet_shared.contract import install_contract, operation_id
from cet_shared.messaging import EventConsumer
from cet_shared.metrics import CachedGauge, HttpMetrics, exposition, note_problem, watch_engine
from cet_shared.problems import Problem, install_problem_handlers, problem_response
from cet_shared.request_ids import RequestIds
from cet_shared.request_retry import RetryConflicts
from cet_shared.settings import ServiceSettings
from cet_shared.slow_clients import install_disconnect_handler
from cet_shared.telemetry import instrument_app, instrument_engine, setup_tracing, tracing_enabled


class BodySizeLimit:
    """Refuses a body over `max_bytes` (or over the larger limit a path is given, e.g. a file import)
    with 413: by its declared Content-Length, or, sent without one (chunked), while reading it."""

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope.get("path", ""), scope.get("root_path", "")
        limit = self.path_limits.get(path[len(root) :] if root and path.startswith(root) else path, self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length: read the body up to the limit before the app sees any of it (once the
        # app reads, FastAPI turns any error into "cannot parse the body").
        messages: list[Message] = []
        received, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > limit:
                await self._refuse(scope, receive, send)
                return
            more = message.get("more_body", False)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        note_problem(scope, "payload_too_large")
        response = problem_response(Problem(413, "payload_too_large", "提交的内容过大"))
        await response(scope, receive, send)


def create_app(
    *,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    root_path: str = "",
    max_body_bytes: int = 1_000_000,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """`body_limits`: larger limits for a few paths (file imports), by path without the root path."""
    # No trailing-slash redirects: Starlette builds their Location from the client's Host header.
    # FastAPI's own telemetry traces every request and dependency whenever a tracer provider is set,
    # exported or not: off unless traces are exported (then the instrumentation below traces).
    quiet = None if tracing_enabled() else TelemetryConfig(tracing=False, metrics=False, logs=False, operation_spans=False)
    app = FastAPI(title=title, lifespan=lifespan, root_path=root_path, redirect_slashes=False, generate_unique_id_function=operation_id, telemetry=quiet)
    install_problem_handlers(app)
    install_contract(app, authenticators=(current_principal,))
    install_disconnect_handler(app)
    app.add_middleware(audit.ActorPerRequest)
    app.add_middleware(RetryConflicts)  # inside the body limit: it replays a body already bounded
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes, path_limits=body_limits)
    app.add_middleware(RequestIds)
    app.add_middleware(HttpMetrics)  # outermost: it sees every answer, refusals included

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        engine = getattr(app.state, "engine", None)
        if engine is None:
            raise Problem(503, "not_ready", "服务启动中")
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return {"status": "ready"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = await exposition(getattr(app.state, "engine", None), getattr(app.state, "metric_gauges", ()))
        return Response(body, media_type=content_type)

    return app


class ServiceContext(Protocol):
    """What a service's composition root (its `bootstrap()` result) offers the api."""

    settings: ServiceSettings
    engine: AsyncEngine

    async def close(self) -> None: ...


C = TypeVar("C", bound=ServiceContext)


def jwks_verifier(settings: ServiceSettings) -> TokenVerifier:
    return TokenVerifier(settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


def create_service_app(
    name: str,
    *,
    title: str,
    routers: Sequence[APIRouter],
    context: C | None,
    bootstrap: Callable[[], C],
    verifier: Callable[[C], TokenVerifier] | None = None,
    body_limits: Mapping[str, int] | None = None,
    gauges: Sequence[CachedGauge] = (),
    consumers: Callable[[C], Sequence[EventConsumer]] | None = None,
) -> FastAPI:
    """A service's api, wired the one way: the context from `bootstrap()` (or the one a test
    passes, which the test then closes) lives in `app.state.<name>`; tokens are verified against
    passport's JWKS unless `verifier` says otherwise; `gauges` are the service's own figures that
    /metrics refreshes from its database (cached, never per request); `consumers` builds the
    worker's consumers, whose contracts /asyncapi.json lists as received."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or bootstrap()
        setup_tracing(f"{name}-api", ctx.settings.otel_exporter_otlp_endpoint)
        setattr(app.state, name, ctx)
        app.state.engine = ctx.engine
        app.state.metric_gauges = tuple(gauges)
        watch_engine(ctx.engine)
        instrument_engine(ctx.engine)
        app.state.token_verifier = verifier(ctx) if verifier else jwks_verifier(ctx.settings)
        try:
            yield
        finally:
            if context is None:
                await ctx.close()

    app = create_app(title=title, lifespan=lifespan, body_limits=body_limits)
    for router in routers:
        app.include_router(router)

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> dict[str, Any]:
        """The events this service sends and receives (AsyncAPI 3), from the pydantic contracts."""
        document = getattr(app.state, "asyncapi", None)
        if document is None:
            consumed = consumed_by(consumers(getattr(app.state, name)) if consumers else ())
            document = app.state.asyncapi = asyncapi_document(name, title=title, consumed=consumed)
        return document

    instrument_app(app)
    return app
