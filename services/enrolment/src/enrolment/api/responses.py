"""Response bodies of the pages and operations tools (the OpenAPI contract of enrolment)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from enrolment.service.session_specs import SubjectCode

PaymentStatus = Literal["全未支付", "部分支付", "全部支付"]
RefundState = Literal["refund_pending", "refunded", "refund_failed"]


class ExamSessionRef(BaseModel):
    id: uuid.UUID
    name: str


class Personal(BaseModel):
    name: str | None
    gender: str | None
    id_type: str | None
    id_number: str = Field(description="已遮盖")


class Subject(BaseModel):
    code: SubjectCode
    name: str


class SubjectRow(BaseModel):
    number: int = Field(ge=1, description="序号")
    enrolment_id: uuid.UUID
    subject_code: SubjectCode
    subject: str = Field(description="(代码) 科目名称")
    fee_fen: int | None
    paid: bool
    payment_status: Literal["已支付", "未支付"]
    arranged: bool
    arrangement_status: Literal["已编排", "未编排"]
    method: str = Field(description="报名方式：考生注册 或 学校集体")
    school: str
    campus: str
    expires_at: datetime | None = Field(description="未支付科目的删除时间（24 小时）")
    locked: bool = Field(description="学校集体缴费锁定")
    cancellable: bool
    ticket_available: bool = Field(description="准考证可以下载")


class RefundRow(BaseModel):
    order_id: uuid.UUID
    enrolment_id: uuid.UUID
    subject_code: SubjectCode
    subject: str
    fee_fen: int | None
    refund_status: RefundState
    refund_status_label: str
    reason: str
    requested_at: datetime
    completed_at: datetime | None


class SubjectTable(BaseModel):
    payment_status: PaymentStatus
    unpaid_fen: int
    rows: list[SubjectRow]
    refunds: list[RefundRow]


class FlowStep(BaseModel):
    name: str
    state: Literal["已完成", "未完成", "可打印", "不可打印", "已开始", "未开始", "已结束", "未结束"]  # domain.rules.flow_steps
    done: bool


class Waiting(BaseModel):
    id: int
    subject_code: SubjectCode
    campus: str
    joined_at: datetime


class Notice(BaseModel):
    scope: Literal["registration_notes", "province", "school"]
    province_code: str | None
    school_code: str | None
    title: str
    body: str


class PageNotices(BaseModel):
    registration_notes: list[Notice]
    province: list[Notice]


class RegistrationPage(BaseModel):
    """N12 报名信息页的全部内容。"""

    exam_session: ExamSessionRef
    registration_id: uuid.UUID
    personal: Personal
    school: str
    campus: str
    qualification_subjects: list[Subject]
    notices_acknowledged: bool
    released: bool
    written: SubjectTable
    oral: SubjectTable
    oral_empty_message: str | None
    flow: list[FlowStep]
    reminder: str | None
    waiting: list[Waiting]
    notices: PageNotices


class CampusChoice(BaseModel):
    offering_id: uuid.UUID
    subject_code: SubjectCode
    subject_name: str
    fee_fen: int | None
    school: str
    campus: str
    capacity: int | None
    remaining: int | None
    remaining_label: str
    colour: str = Field(description="余量颜色（N11）")
    selectable: bool
    opens_at: datetime | None
    closes_at: datetime | None
    exam_date: date | None


class OralCampuses(BaseModel):
    subject_code: str
    qualified: bool
    message: str | None
    fixed: bool = Field(description="笔试校区不允许外校口试：无可选校区（N10）")
    campuses: list[CampusChoice]
    school_notices: list[Notice]


class ExamSessionRow(BaseModel):
    id: uuid.UUID
    name: str
    year: int
    half: Literal[1, 2]
    registration_opens_at: datetime
    registration_closes_at: datetime
    written_exam_date: date | None
    oral_exam_dates: dict[str, date]
    written_tickets_opens_at: datetime | None
    written_tickets_closes_at: datetime | None
    oral_tickets_opens_at: datetime | None
    oral_tickets_closes_at: datetime | None
    published_at: datetime | None
    arranged_at: datetime | None
    created_at: datetime


class OfferingRow(BaseModel):
    id: uuid.UUID
    exam_session_id: uuid.UUID
    subject_code: SubjectCode
    province_code: str
    school_code: str
    school_name: str
    campus_code: str
    campus_name: str
    fee_fen: int | None
    capacity: int | None
    remaining: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    accepts_other_schools: bool
    held: int = Field(description="已占用的考位")


class SessionOverview(BaseModel):
    session: ExamSessionRow
    offerings: list[OfferingRow]


class OfferingIds(BaseModel):
    offering_ids: list[uuid.UUID]


class CapacityChanged(BaseModel):
    capacity: int
    remaining: int
    promoted_from_waitlist: int


class Arranged(BaseModel):
    arranged: int


class UnpaidSubject(BaseModel):
    id: uuid.UUID
    subject_code: SubjectCode
    subject: str
    fee_fen: int | None
    locked: bool
    expires_at: datetime | None
    registration_id: uuid.UUID


class LocksChanged(BaseModel):
    changed: int


class ArrangementJobView(BaseModel):
    """N13 编排任务：冻结的待编排科目数、已编排数与进度。"""

    id: uuid.UUID
    exam_session_id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    status_label: str = Field(description="排队中 / 编排中 / 已完成 / 失败")
    total: int = Field(description="本次冻结的已缴费科目数")
    arranged: int = Field(description="已安排考场座位的科目数")
    progress: float = Field(ge=0, le=1)
    error: str | None
    requested_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class ArrangementJobs(BaseModel):
    items: list[ArrangementJobView]
