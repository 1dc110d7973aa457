"""The FastAPI application shape every service shares: problem+json errors, health checks,
telemetry, and a body-size limit so no client can make us buffer megabytes."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from cet_shared.problems import Problem, install_problem_handlers, problem_response


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = problem_response(Problem(413, "payload_too_large", "提交的内容过大"))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    *,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    root_path: str = "",
    max_body_bytes: int = 1_000_000,
) -> FastAPI:
    app = FastAPI(title=title, lifespan=lifespan, root_path=root_path)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)

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

    return app
