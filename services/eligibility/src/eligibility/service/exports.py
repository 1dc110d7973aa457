"""Staff export of CET6 review decisions (issue 15), per province and per school, narrowed to the
reader's scope; rows stream from a server-side cursor (cet_shared.csv_export)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cet_shared.csv_export import streamed_rows
from cet_shared.privacy import mask_id_number
from cet_shared.staff_scope import ReadScope
from eligibility.db.tables import cet6_reviews, schools
from eligibility.domain.review import ReviewStatus

REVIEW_HEADER = ["省份代码", "学校代码", "申请号", "姓名", "证件号码", "状态", "规则", "提交时间", "复核人", "复核时间", "复核意见"]


def reviews_query(scope: ReadScope, *, status: str | None, since: datetime | None, until: datetime | None) -> Select:
    v = cet6_reviews.c
    query = (
        select(schools.c.province_code, v.school_code, v.id, v.name, v.id_number, v.status, v.rule, v.submitted_at, v.decided_by, v.decided_at, v.decision_note)
        .join(schools, schools.c.code == v.school_code)
        .order_by(v.school_code, v.submitted_at, v.id)
    )
    for column, value in ((schools.c.province_code, scope.province), (v.school_code, scope.school), (v.status, status)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(v.submitted_at >= since)
    if until is not None:
        query = query.where(v.submitted_at < until)
    return query


async def review_rows(engine: AsyncEngine, query: Select) -> AsyncIterator[tuple[Any, ...]]:
    async for row in streamed_rows(engine, query):
        yield (*row[:4], mask_id_number(row[4]), ReviewStatus(row[5]).label, *row[6:])
