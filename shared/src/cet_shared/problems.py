"""RFC 9457 problem details: every error a client can cause gets a stable `code` and a Chinese `title`.

Handlers are installed by `cet_shared.web.create_app`; services raise `Problem` (or a subclass)
from anywhere below the API layer and never build responses by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from cet_shared.field_errors import field_errors
from cet_shared.metrics import note_problem
from cet_shared.resilience import is_transient, sqlstate

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """An error the client can understand and act on."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{code}: {title}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://cet.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    if request is not None:
        note_problem(request.scope, problem.code)
    return JSONResponse(
        problem.body(request.url.path if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


# The few problems every service raises the same way.
def not_authenticated() -> Problem:
    return Problem(401, "not_authenticated", "请先登录", headers={"WWW-Authenticate": "Bearer"})


def forbidden() -> Problem:
    return Problem(403, "forbidden", "没有权限执行此操作")


def not_found(what: str = "资源") -> Problem:
    return Problem(404, "not_found", f"{what}不存在")


def too_many_requests(retry_after_seconds: int) -> Problem:
    return Problem(
        429,
        "too_many_requests",
        "操作过于频繁，请稍后再试",
        headers={"Retry-After": str(max(1, retry_after_seconds))},
        retry_after=max(1, retry_after_seconds),
    )


# A database that is restarting or failing over is back within seconds; the portal retries then.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def service_unavailable(retry_after_seconds: int = UNAVAILABLE_RETRY_AFTER_SECONDS) -> Problem:
    return Problem(
        503,
        "service_unavailable",
        "系统暂时无法处理，请稍后重试",
        headers={"Retry-After": str(retry_after_seconds)},
        retry_after=retry_after_seconds,
    )


_STATUS_TITLES = {
    400: ("bad_request", "请求有误"),
    401: ("not_authenticated", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "页面或资源不存在"),
    405: ("method_not_allowed", "不支持的请求方法"),
    406: ("not_acceptable", "不支持的响应格式"),
    409: ("conflict", "操作冲突，请刷新后重试"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "不支持的提交格式"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
}


def served_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route an app serves, those of included routers too (FastAPI keeps them nested)."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)  # FastAPI's included routers
        if contexts is not None:
            yield from contexts()
        else:
            yield route


def allowed_methods(request: Request) -> set[str]:
    """Every method some route serves at this path (Starlette names only the first route's, and
    FastAPI answers 404 when the path's routes sit in an included router)."""
    methods: set[str] = set()
    for route in served_routes(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "\x00"})  # a method no route has: matches are PARTIAL
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Echoing the rejected input back could leak personal data into logs and caches: the
        # location, the kind and a Chinese message are enough for the portal to point at the field.
        problem = Problem(422, "invalid_request", "提交的信息格式不正确，请检查后重新提交", errors=field_errors(exc.errors()))
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, headers = exc.status_code, getattr(exc, "headers", None)
        if status in (404, 405):  # the router's own answers: a path served for other methods is a 405
            allowed = allowed_methods(request)
            if allowed and request.method not in allowed:
                status, headers = 405, {**(headers or {}), "Allow": ", ".join(sorted(allowed))}
        code, title = _STATUS_TITLES.get(status, ("error", "请求未能完成"))
        return problem_response(Problem(status, code, title, headers=headers), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            # A fault of ours or of the network, not of the request (the database restarting, a cut
            # link, a deadlock victim after its retries): the same request works once it is over.
            log.warning("%s %s: unavailable (%s: %s)", request.method, request.url.path, type(exc).__name__, sqlstate(exc) or str(exc)[:200])
            return problem_response(service_unavailable(), request)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem(500, "internal_error", "系统繁忙，请稍后再试"), request)
