"""Response bodies: what each eligibility operation answers, as the OpenAPI contract shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cet_shared.id_types import IdType
from eligibility.domain.review import ReviewStatus

SubjectCode = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "F", "S"]
Window = Literal["none", "before", "open", "closed"]


class ExamSessionRef(BaseModel):
    id: uuid.UUID
    name: str


class WindowView(BaseModel):
    exam_session: ExamSessionRef | None = Field(description="当前考次（无考次时为空）")
    window: Window = Field(description="报名时间：none 无考次，before 未开始，open 报名中，closed 已结束")
    can_save: bool = Field(description="现在能否保存报名信息（E6）")


class Home(WindowView):
    header_name: str = Field(description="页头的姓名（未绑定时为“未设置”）")
    exam_session_name: str | None
    registration_status: str = Field(description="报名状态（中文）")
    bound: bool
    agreement_accepted: bool


class Agreement(BaseModel):
    version: str
    accepted: bool


class Subject(BaseModel):
    code: SubjectCode
    name: str


class ConfirmationPage(BaseModel):
    """E4 资格信息确认 的各项。"""

    name: str
    gender: str
    id_type: IdType
    id_type_label: str
    id_number: str = Field(description="证件号码（报名信息页中已遮盖）")
    qualification_subjects: list[Subject]
    qualification_subjects_text: str
    school_code: str
    school: str = Field(description="(学校代码)学校名称")
    campus_code: str
    campus: str = Field(description="(校区代码)校区名称")
    education_level: str
    program_years: str
    entry_year: str
    grade: str
    department: str
    major: str
    class_name: str
    student_number: str
    remarks: str
    cet6_review_available: bool = Field(description="是否显示“CET6资格复核”按钮")


class QueryAnswer(WindowView):
    message: str
    confirmation: ConfirmationPage


class RegistrationView(BaseModel):
    message: str | None
    registration_id: uuid.UUID
    exam_session: ExamSessionRef
    saved_at: datetime
    registration: ConfirmationPage


class ReviewView(BaseModel):
    """查看复核申请：各项均已遮盖。"""

    name: str
    id_type: str
    id_number: str
    ticket_number: str
    status: ReviewStatus
    status_label: str
    decision_note: str | None
    can_edit: bool
    can_delete: bool


class ReviewResult(BaseModel):
    message: str
    status: ReviewStatus
    status_label: str
    granted_subjects: list[SubjectCode]


class TeacherReviewItem(BaseModel):
    id: uuid.UUID
    name: str
    id_type_label: str
    id_number: str
    ticket_number: str | None
    status: ReviewStatus
    status_label: str
    rule: str = Field(description="rule1、rule2 或 teacher（老师代为申请）")
    submissions: int
    submitted_at: datetime


class TeacherReviewList(BaseModel):
    items: list[TeacherReviewItem]


class TeacherDecision(BaseModel):
    id: uuid.UUID
    status: ReviewStatus
    status_label: str
    granted_subjects: list[SubjectCode]


class ImportSummary(BaseModel):
    message: str
    rows: int
    created: int
    updated: int


class ImportErrorItem(BaseModel):
    row: int = Field(description="文件中的行号（表头为第1行）")
    field: str = Field(description="列名；空表示整行")
    message: str


class ImportJobView(BaseModel):
    """A registry or score import job: its state and progress."""

    id: uuid.UUID
    kind: Literal["students", "scores"]
    school_code: str | None = Field(description="老师导入时为本校代码；运营人员为空")
    status: Literal["receiving", "queued", "validating", "merging", "done", "rejected"]
    status_label: str
    rows_read: int
    rows_valid: int
    rows_merged: int
    created: int
    updated: int
    error_count: int
    progress: float = Field(ge=0, le=1)
    created_at: datetime
    finished_at: datetime | None


class ImportJobDetail(ImportJobView):
    errors: list[ImportErrorItem] = Field(description="前200条错误；全部错误见 errors.csv")


class ImportJobList(BaseModel):
    jobs: list[ImportJobView]


class ImportAccepted(BaseModel):
    message: str
    job: ImportJobDetail


class FoundRegistration(BaseModel):
    registration_id: uuid.UUID
    exam_session: ExamSessionRef
    passport_id: str
    name: str = Field(description="已遮盖")
    id_number: str = Field(description="已遮盖")
    saved_at: datetime


class FoundRegistrations(BaseModel):
    items: list[FoundRegistration]


class Rebound(BaseModel):
    message: str
    registration_id: uuid.UUID
    old_passport_id: str
    new_passport_id: str


class RecoveryAnswer(BaseModel):
    found: bool
    message: str
    email: str | None = Field(description="已遮盖的邮箱（找到时）")
