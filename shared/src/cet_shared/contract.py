"""The OpenAPI contract every service publishes (issue 13): what an operation answers, in its schema.

A route declares in one line the problems its use case can raise, by status:

    @router.post("/orders", responses=problems(404, 409))

and `install_contract(app)` completes every operation with what the shared plumbing may answer
(401/403 where a token is required, 413 where a body is read, 422 where input is parsed, 503
everywhere), all as `application/problem+json` with the one `Problem` schema: never FastAPI's
`HTTPValidationError`. Operation ids are the route functions' names, so links can name them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from cet_shared.problems import PROBLEM_JSON, served_routes

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_RETRY_AFTER = {"Retry-After": {"description": "几秒后可以重试", "required": True, "schema": {"type": "integer", "minimum": 1}}}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "required": False, "schema": {"type": "string"}}},
    405: {"Allow": {"description": "该路径支持的请求方法", "required": True, "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}
STATUS_DESCRIPTIONS = {
    400: "请求有误：请求体无法解析，或提交中途断开；验证码、链接等错误见各自的 `code`",
    401: "未登录，或登录已失效（`not_authenticated`、`session_expired`）",
    403: "没有权限执行此操作（角色不符，或来自其他网站的请求）",
    404: "要操作的记录不存在",
    405: "不支持的请求方法",
    409: "与当前状态冲突（重复提交、已被占用等）",
    413: "提交的内容过大",
    415: "不支持的提交格式",
    422: "提交的信息不正确：字段格式（`invalid_request`，逐项见 `errors`）或业务规则（各自的 `code`）",
    429: "操作过于频繁，请稍后再试",
    502: "支付平台暂时无法访问",
    503: "系统暂时无法处理，请稍后重试",
}


class FieldError(BaseModel):
    loc: list[str] = Field(description='出错的位置，例如 ["body", "name"]')
    type: str = Field(description="错误类别（稳定，供程序判断）")
    msg: str = Field(description="中文说明")
    debug: str | None = Field(default=None, description="校验器的原文（英文，仅供排查）")


class RowError(BaseModel):
    row: int = Field(description="文件中的行号")
    field: str
    message: str = Field(description="中文说明")


class ProblemDetails(BaseModel):
    """RFC 9457 问题详情：稳定的 `code` 与中文 `title`。"""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="问题类型的 URI")
    title: str = Field(description="中文标题，可直接展示给用户")
    status: int = Field(ge=400, le=599)
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="稳定的错误代码")
    detail: str | None = None
    instance: str | None = Field(default=None, description="出错的请求路径")
    errors: list[FieldError | RowError] | None = Field(default=None, description="逐个字段（`invalid_request`）或逐行（导入文件）的错误")
    retry_after: int | None = Field(default=None, ge=1, description="几秒后可以重试（429、503）")


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One documented problem answer (for `responses=`)."""
    answer: dict[str, Any] = {"description": description or STATUS_DESCRIPTIONS.get(status, "请求未能完成"), "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}
    if status in _HEADERS:
        answer["headers"] = _HEADERS[status]
    return answer


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the problem statuses its use case may raise (`problems(404, 409)`);
    a description per status may be given as `s404="报名信息不存在"`."""
    return {status: problem_response(status, descriptions.get(f"s{status}")) for status in statuses}


def link(operation_id: str, description: str, *, parameters: Mapping[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    """An OpenAPI link from an answer to the next step of a flow (what stateful testers chain)."""
    found: dict[str, Any] = {"operationId": operation_id, "description": description}
    if parameters:
        found["parameters"] = dict(parameters)
    if body is not None:
        found["requestBody"] = body
    return found


def _dependencies(dependant: Dependant) -> Iterable[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _parses_input(route: Any) -> bool:
    d = route.dependant
    return any(
        [d.body_params, d.query_params, d.path_params, d.header_params, d.cookie_params]
        + [s.body_params or s.query_params or s.path_params or s.header_params for s in _dependencies(d)]
    )


def _needs_token(route: Any, authenticators: tuple[Callable[..., Any], ...]) -> bool:
    return any(sub.call in authenticators for sub in _dependencies(route.dependant))


def _automatic(route: Any, authenticators: tuple[Callable[..., Any], ...]) -> list[int]:
    statuses = [503]
    if route.dependant.body_params:
        statuses.append(400)  # a body that cannot be read as JSON at all (bytes that are not UTF-8)
    if _needs_token(route, authenticators):
        statuses += [401, 403]
    if route.dependant.body_params or route.openapi_extra and "requestBody" in route.openapi_extra:
        statuses.append(413)
    if _parses_input(route):
        statuses.append(422)
    return statuses


def _complete(operation: dict[str, Any], statuses: Iterable[int]) -> None:
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), problem_response(status))
    for status, answer in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        content = answer.get("content") or {}
        if not content or "application/json" in content:  # FastAPI's default (HTTPValidationError) or a bare one
            answer["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
        if answer.get("description") in (None, "", "Validation Error", "Unprocessable Content", "Additional Response"):
            answer["description"] = STATUS_DESCRIPTIONS.get(int(status), answer.get("description") or "请求未能完成")
        if int(status) in _HEADERS:
            answer.setdefault("headers", _HEADERS[int(status)])
    operation["responses"] = dict(sorted(responses.items()))


def _components(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def install_contract(app: FastAPI, *, authenticators: tuple[Callable[..., Any], ...] = ()) -> None:
    """Serve the completed contract at /openapi.json. `authenticators`: the dependencies that
    require a token (their routes document 401 and 403)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        routes = {(route.path_format, method.lower()): route for route in served_routes(app.routes) if hasattr(route, "dependant") for method in route.methods}
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                route = routes.get((path, method))
                if route is not None:
                    _complete(operation, _automatic(route, authenticators))
        _components(document)
        document["info"].setdefault(
            "description",
            (
                "全国大学英语四、六级考试网上报名系统的接口。所有拒绝均为 `application/problem+json`（RFC 9457），"
                "含稳定的 `code` 与中文 `title`；本服务发布与接收的事件见 `/asyncapi.json`。"
            ),
        )
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def operation_id(route: APIRoute) -> str:
    """Operation ids are the route functions' names (unique within a service; links name them)."""
    return route.name
