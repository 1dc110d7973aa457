"""Staff exports (issue 15): the roster of a school or campus, paid subjects, unpaid holds, the
arrangement and refunds, per province and per school, each narrowed to the reader's scope (cet_shared.staff_scope).
Each export is a header and a query; rows stream from a server-side cursor (cet_shared.csv_export)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cet_shared.csv_export import streamed_rows
from cet_shared.privacy import mask_id_number
from cet_shared.staff_scope import ReadScope
from enrolment.db.tables import enrolments, offerings, refunds, registrations
from enrolment.domain.subjects import SUBJECTS

r, e, o = registrations.c, enrolments.c, offerings.c
KEYSET_PAGE = 5_000
_PERSON = (r.province_code, r.school_code, r.campus_code, r.registration_id, r.snapshot["name"].astext, r.snapshot["id_number"].astext)
_PERSON_HEADER = ["省份代码", "学校代码", "校区代码", "报名号", "姓名", "证件号码"]


@dataclass(frozen=True)
class ExportFilter:
    exam_session_id: uuid.UUID | None = None
    campus: str | None = None


@dataclass(frozen=True)
class Export:
    header: Sequence[str]
    query: Callable[[], Select]
    row: Callable[[tuple], tuple] = lambda row: row
    # A unique column the query orders by: read page by page along its index (each page a short
    # statement) instead of one cursor over a sort of everything.
    keyset: Any = None


def _masked(row: tuple) -> tuple:
    """The ID number (6th column) masked: a school knows its students by name and number."""
    return (*row[:5], mask_id_number(row[5] or ""), *row[6:])


def _subject_row(row: tuple) -> tuple:
    code = row[6]
    return (*_masked(row)[:6], SUBJECTS[code].label if code in SUBJECTS else code, *row[7:])


EXPORTS: dict[str, Export] = {
    "roster": Export(
        [*_PERSON_HEADER, "性别", "绑定时间", "释放时间"],
        lambda: select(*_PERSON, r.snapshot["gender"].astext, r.bound_at, r.released_at).order_by(r.school_code, r.campus_code, r.registration_id),
        _masked,
    ),
    "paid": Export(
        [*_PERSON_HEADER, "科目", "考点校区", "费用（分）", "支付时间", "订单号", "准考证号"],
        lambda: (
            select(*_PERSON, e.subject_code, o.campus_code, e.fee_fen, e.paid_at, e.order_id, e.ticket_number)
            .join(enrolments, e.registration_id == r.registration_id)
            .join(offerings, o.id == e.offering_id)
            .where(e.status == "paid")
            .order_by(r.school_code, e.paid_at, e.id)
        ),
        _subject_row,
    ),
    "unpaid": Export(
        [*_PERSON_HEADER, "科目", "考点校区", "费用（分）", "报考时间", "支付截止", "集体缴费锁定"],
        lambda: (
            select(*_PERSON, e.subject_code, o.campus_code, e.fee_fen, e.enrolled_at, e.expires_at, e.locked)
            .join(enrolments, e.registration_id == r.registration_id)
            .join(offerings, o.id == e.offering_id)
            .where(e.status == "held")
            .order_by(r.school_code, e.expires_at, e.id)
        ),
        _subject_row,
    ),
    # N13: the arrangement's result, room by room of each exam campus and subject: in ticket number
    # order (province, school, campus, subject, room, seat), read along its unique index a page at
    # a time, so a national export streams at once instead of sorting a million rows first.
    "arrangement": Export(
        [*_PERSON_HEADER, "科目", "考点校区", "考场号", "座位号", "准考证号"],
        lambda: (
            select(*_PERSON, e.subject_code, o.campus_code, e.room, e.seat, e.ticket_number)
            .join(enrolments, e.registration_id == r.registration_id)
            .join(offerings, o.id == e.offering_id)
            .where(e.status == "paid", e.ticket_number.is_not(None))
            .order_by(e.ticket_number)
        ),
        _subject_row,
        keyset=e.ticket_number,
    ),
    "refunds": Export(
        [*_PERSON_HEADER, "订单号", "退款金额（分）", "原因", "申请时间", "完成时间", "实退金额（分）", "失败时间"],
        lambda: (
            select(
                *_PERSON,
                refunds.c.order_id,
                refunds.c.amount_fen,
                refunds.c.reason,
                refunds.c.requested_at,
                refunds.c.completed_at,
                refunds.c.completed_amount_fen,
                refunds.c.failed_at,
            )
            .join(refunds, refunds.c.registration_id == r.registration_id)
            .order_by(r.school_code, refunds.c.requested_at, refunds.c.order_id)
        ),
        _masked,
    ),
}


def export_query(kind: str, scope: ReadScope, wanted: ExportFilter) -> Select:
    query = EXPORTS[kind].query()
    for column, value in (
        (r.province_code, scope.province),
        (r.school_code, scope.school),
        (r.campus_code, wanted.campus),
        (r.exam_session_id, wanted.exam_session_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


async def export_rows(engine: AsyncEngine, kind: str, scope: ReadScope, wanted: ExportFilter) -> AsyncIterator[tuple[Any, ...]]:
    export = EXPORTS[kind]
    if export.keyset is None:
        async for row in streamed_rows(engine, export_query(kind, scope, wanted)):
            yield export.row(row)
        return
    last = None
    while True:
        query = export_query(kind, scope, wanted).limit(KEYSET_PAGE)
        if last is not None:
            query = query.where(export.keyset > last)
        async with engine.connect() as connection:
            page = (await connection.execute(query)).all()
        for row in page:
            yield export.row(tuple(row))
        if len(page) < KEYSET_PAGE:
            return
        last = page[-1]._mapping[export.keyset]
