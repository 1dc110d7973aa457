"""Registry and score files (E13, E10): operations for any school, a teacher for their own school.

A file of any size becomes an import job: POST streams it to staging. With `Prefer: respond-async`
(RFC 7240: the console, any big file) it answers 202 with the job's Location and eligibility's
worker runs it; GET shows its progress, GET …/errors.csv its error report. Without it the request
waits for the same job and answers as the import always did (200 with the counts, 422 with every
row's error). The same content posted again in the same scope is the same job (200, its Location)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from cet_shared.auth import Principal
from cet_shared.contract import problems
from cet_shared.csv_export import CSV_RESPONSES, csv_response
from cet_shared.problems import Problem, forbidden
from eligibility.api.deps import ClockDep, Importer, SettingsDep, UnitOfWorkDep
from eligibility.api.responses import ImportAccepted, ImportJobDetail, ImportJobList, ImportSummary
from eligibility.domain.import_jobs import ImportKind
from eligibility.service import import_jobs as jobs_service
from eligibility.service.ports import EligibilityUnitOfWork
from eligibility.service.registry import result_of
from eligibility.settings import EligibilitySettings

router = APIRouter(tags=["registry"])
ERRORS_SHOWN = 200  # in a job's JSON view; errors.csv has them all
ERROR_HEADER = ("行号", "字段", "原因")


def _scope(principal: Principal) -> str | None:
    """None: operations, any school. A teacher acts for their own school only."""
    if principal.has("ops"):
        return None
    if principal.school_code is None:
        raise forbidden()
    return principal.school_code


def _location(job_id: uuid.UUID) -> str:
    # Relative to the upload's own URL (RFC 9110 §10.2.2), so it holds behind the gateway's prefix too.
    return f"imports/{job_id}"


async def _start(
    request: Request, uow: EligibilityUnitOfWork, clock: ClockDep, settings: EligibilitySettings, kind: ImportKind, scope: str | None
) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain", "application/csv"):
        raise Problem(415, "unsupported_media_type", "请以CSV文件（text/csv，UTF-8编码）上传")
    job, created = await jobs_service.receive_file(uow.imports, clock, kind, request.stream(), scope=scope, max_bytes=settings.max_import_bytes)
    headers = {"Location": _location(job.id)}
    if "respond-async" in request.headers.get("prefer", "").lower():
        message = "已接收，正在后台导入" if created else "该文件已提交过，返回原导入任务"
        body = ImportAccepted(message=message, job=await _view(uow, job.id, scope)).model_dump(mode="json")
        return JSONResponse(body, status_code=202 if created else 200, headers={**headers, "Preference-Applied": "respond-async"})
    result = await result_of(uow.imports, await jobs_service.finish(uow.imports, clock, job.id, jobs_service.pace_of(settings)))
    summary = ImportSummary(message="导入成功", rows=result.rows, created=result.created, updated=result.updated)
    return JSONResponse(summary.model_dump(), headers=headers)


async def _view(uow: EligibilityUnitOfWork, job_id: uuid.UUID, scope: str | None) -> ImportJobDetail:
    job = await jobs_service.visible_job(uow.imports, job_id, scope=scope)
    errors = await uow.imports.errors(job_id, limit=ERRORS_SHOWN)
    return ImportJobDetail.model_validate({**job.view(), "errors": [e.as_dict() for e in errors]})


# The body is the CSV file itself (read as a stream, up to max_import_bytes), not a JSON document.
_CSV = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string", "maxLength": 4_000_000_000}}}}}
_IMPORT_PROBLEMS = problems(413, 415, 422, s422="文件内容或编码不正确（`import_invalid` 逐行列出，`import_encoding`）")
_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": ImportAccepted, "description": "`Prefer: respond-async`：已接收，后台导入（Location 为导入任务；同一文件再次提交时为200和原任务）"}
}


@router.post("/registry/students", response_model=ImportSummary, summary="导入学籍", responses={**_ACCEPTED, **_IMPORT_PROBLEMS}, openapi_extra=_CSV)
async def import_students(request: Request, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Importer) -> JSONResponse:
    """E13：运营人员可导入任何学校的学籍，学校老师只能导入本校的。"""
    return await _start(request, uow, clock, settings, ImportKind.STUDENTS, _scope(principal))


@router.post("/registry/scores", response_model=ImportSummary, summary="导入四级成绩", responses={**_ACCEPTED, **_IMPORT_PROBLEMS}, openapi_extra=_CSV)
async def import_scores(request: Request, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Importer) -> JSONResponse:
    """E10：成绩是全国数据，只有运营人员可以导入，老师不能改写。"""
    if not principal.has("ops"):
        raise forbidden()
    return await _start(request, uow, clock, settings, ImportKind.SCORES, None)


@router.get("/registry/imports", summary="导入任务列表")
async def list_imports(uow: UnitOfWorkDep, principal: Importer, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> ImportJobList:
    """最近的导入任务及其进度；老师只看到本校的。"""
    return ImportJobList.model_validate({"jobs": [job.view() for job in await uow.imports.recent(scope=_scope(principal), limit=limit)]})


@router.get("/registry/imports/{job_id}", summary="导入任务进度", responses=problems(404))
async def import_job(job_id: uuid.UUID, uow: UnitOfWorkDep, principal: Importer) -> ImportJobDetail:
    """读取行数、有效行数、已导入行数、错误数和状态，以及前200条错误。"""
    return await _view(uow, job_id, _scope(principal))


@router.get("/registry/imports/{job_id}/errors.csv", summary="下载导入错误报告", response_class=StreamingResponse, responses={**CSV_RESPONSES, **problems(404)})
async def import_errors_csv(job_id: uuid.UUID, uow: UnitOfWorkDep, principal: Importer) -> StreamingResponse:
    """每条错误一行：行号、字段、原因（CSV，UTF-8 带 BOM）。"""
    await jobs_service.visible_job(uow.imports, job_id, scope=_scope(principal))
    return await csv_response(f"import-{job_id}-errors", ERROR_HEADER, uow.imports.error_rows(job_id))
