"""Staff exports as streamed CSV (UTF-8 with BOM): CET6 review decisions. Operations everywhere,
a province administrator in their province, a teacher for their school only (403 out_of_scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from cet_shared.auth import CurrentPrincipal
from cet_shared.contract import problems
from cet_shared.csv_export import CSV_RESPONSES, csv_response
from cet_shared.problems import Problem
from cet_shared.staff_scope import read_scope
from cet_shared.strict import IsoMoment
from eligibility.api.deps import EligibilityDep
from eligibility.domain.review import ReviewStatus
from eligibility.service.exports import REVIEW_HEADER, review_rows, reviews_query

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/reviews",
    response_class=StreamingResponse,
    responses={**CSV_RESPONSES, **problems(400, 403)},
    summary="导出CET6资格复核结果",
    description="按省份、学校、状态和提交时间筛选的复核申请及其结果（CSV），限于导出人的管理范围。",
)
async def export_reviews(
    ctx: EligibilityDep,
    principal: CurrentPrincipal,
    province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    school: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    status: ReviewStatus | None = None,
    since: IsoMoment | None = None,
    until: IsoMoment | None = None,
) -> StreamingResponse:
    """The CET6 review applications and their decisions (E10), submitted in [since, until)."""
    if since is not None and until is not None and since >= until:
        raise Problem(400, "invalid_time_range", "起始时间须早于结束时间")
    scope = read_scope(principal).narrowed(province=province, school=school)
    query = reviews_query(scope, status=status.value if status else None, since=since, until=until)
    return await csv_response(f"reviews-{scope.school or scope.province or 'all'}", REVIEW_HEADER, review_rows(ctx.engine, query))
