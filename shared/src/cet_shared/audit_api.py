"""GET /ops/audit (a page, keyset by id) and GET /ops/audit/export (streamed CSV) in every service:
the same filters on both. Operations read everything, a province administrator their province,
a teacher their school (cet_shared.staff_scope); candidates and support nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Select, select

from cet_shared.audit import audit_log
from cet_shared.auth import CurrentPrincipal
from cet_shared.contract import problems
from cet_shared.csv_export import CSV_RESPONSES, csv_response, streamed_rows
from cet_shared.problems import Problem
from cet_shared.staff_scope import ReadScope, read_scope
from cet_shared.strict import IsoMoment

COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_role",
    "address",
    "request_id",
    "kind",
    "subject_type",
    "subject_id",
    "candidate",
    "province_code",
    "school_code",
    "before",
    "after",
)
MAX_PAGE = 500

Code = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$")]


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    candidate: str | None = None
    school: str | None = None
    province: str | None = None
    kind: str | None = None
    since: IsoMoment | None = None
    until: IsoMoment | None = None


async def audit_filter(
    actor: Code = None,
    candidate: Code = None,
    school: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    kind: Code = None,
    since: IsoMoment | None = None,
    until: IsoMoment | None = None,
) -> AuditFilter:  # async: a plain def would run in the thread pool
    if since is not None and until is not None and since >= until:
        raise Problem(400, "invalid_time_range", "起始时间须早于结束时间")
    return AuditFilter(actor, candidate, school, province, kind, since, until)


Filters = Annotated[AuditFilter, Depends(audit_filter)]


def scoped(principal: Any, wanted: AuditFilter) -> ReadScope:
    return read_scope(principal).narrowed(province=wanted.province, school=wanted.school)


def audit_query(wanted: AuditFilter, scope: ReadScope) -> Select[Any]:
    c = audit_log.c
    query = select(*(c[name] for name in COLUMNS)).order_by(c.id.desc())
    for column, value in (
        (c.actor_id, wanted.actor),
        (c.candidate, wanted.candidate),
        (c.kind, wanted.kind),
        (c.school_code, scope.school),
        (c.province_code, scope.province),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.since is not None:
        query = query.where(c.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(c.at < wanted.until)
    return query


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_id: str = Field(description="操作人（通行证号；system 表示系统任务）")
    actor_role: str
    address: str | None = Field(description="操作人的来源地址")
    request_id: str | None
    kind: str = Field(description="操作类型，例如 offering.capacity_changed")
    subject_type: str
    subject_id: str
    candidate: str | None
    province_code: str | None
    school_code: str | None
    before: Any = Field(description="操作前（JSON）")
    after: Any = Field(description="操作后（JSON）")


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next: int | None = Field(description="下一页的 before_id；null 表示没有更多")


router = APIRouter(prefix="/ops/audit", tags=["audit"])


@router.get("", response_model=AuditPage, summary="操作审计：查询", responses=problems(400, 403))
async def audit_page(
    request: Request,
    principal: CurrentPrincipal,
    wanted: Filters,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="keyset: the `next` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """按操作人、考生、学校、省份、操作类型和时间筛选，最新的在前；`next` 是下一页的 `before_id`。"""
    query = audit_query(wanted, scoped(principal, wanted)).limit(limit + 1)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    async with request.app.state.engine.connect() as connection:
        rows = (await connection.execute(query)).mappings().all()
    items = [dict(row) for row in rows[:limit]]
    return {"items": items, "next": items[-1]["id"] if len(rows) > limit else None}


@router.get("/export", response_class=StreamingResponse, responses={**CSV_RESPONSES, **problems(400, 403)}, summary="操作审计：导出 CSV")
async def audit_export(request: Request, principal: CurrentPrincipal, wanted: Filters) -> StreamingResponse:
    """与查询相同的筛选条件，导出全部匹配的记录（CSV，UTF-8 带 BOM）。"""
    query = audit_query(wanted, scoped(principal, wanted))
    return await csv_response("audit", COLUMNS, streamed_rows(request.app.state.engine, query))
