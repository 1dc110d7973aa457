"""Staff exports as streamed CSV (UTF-8 with BOM): operations everywhere, a province administrator
in their province, a teacher for their school only (another school: 403 out_of_scope)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from cet_shared.auth import CurrentPrincipal
from cet_shared.contract import problems
from cet_shared.csv_export import CSV_RESPONSES, csv_response
from cet_shared.staff_scope import read_scope
from enrolment.api.deps import EnrolmentDep
from enrolment.service.exports import EXPORTS, ExportFilter, export_rows

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/{kind}",
    response_class=StreamingResponse,
    responses={**CSV_RESPONSES, **problems(400, 403)},
    summary="导出考生名单、已缴费科目、未缴费占位、编排结果或退费",
    description="roster：考生名单；paid：已缴费科目；unpaid：未缴费占位；arrangement：编排结果（考场、座位、准考证号）；refunds：退费。按省份、学校、校区和考次筛选（CSV），限于导出人的管理范围。",
)
async def export(
    kind: Literal["roster", "paid", "unpaid", "arrangement", "refunds"],
    ctx: EnrolmentDep,
    principal: CurrentPrincipal,
    session: uuid.UUID | None = None,
    province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    school: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    campus: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> StreamingResponse:
    """roster: every registration; paid: paid subjects; unpaid: unpaid holds; arrangement: seats and ticket numbers; refunds: refunds asked and done."""
    scope = read_scope(principal).narrowed(province=province, school=school or (campus[:5] if campus else None))
    rows = export_rows(ctx.engine, kind, scope, ExportFilter(exam_session_id=session, campus=campus))
    return await csv_response(f"{kind}-{scope.school or scope.province or 'all'}", EXPORTS[kind].header, rows)
