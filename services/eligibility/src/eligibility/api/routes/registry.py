"""Registry and score files (E13, E10): ops for any school, a teacher for their own school only."""

from __future__ import annotations

from fastapi import APIRouter, Request

from cet_shared.contract import problems
from cet_shared.problems import Problem, forbidden
from eligibility.api.deps import ClockDep, Importer, SettingsDep, UnitOfWorkDep
from eligibility.api.responses import ImportSummary
from eligibility.service import registry as service

router = APIRouter(tags=["registry"])


async def _csv_text(request: Request, limit: int) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain", "application/csv"):
        raise Problem(415, "unsupported_media_type", "请以CSV文件（text/csv，UTF-8编码）上传")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Problem(413, "payload_too_large", "提交的内容过大")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "import_encoding", "文件编码不正确，请保存为UTF-8编码的CSV文件") from None


def _result(result: service.ImportResult) -> ImportSummary:
    return ImportSummary(message="导入成功", rows=result.rows, created=result.created, updated=result.updated)


# The body is the CSV file itself (read as a stream, up to max_import_bytes), not a JSON document.
_CSV = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string", "maxLength": 20_000_000}}}}}
_IMPORT_PROBLEMS = problems(413, 415, 422, s422="文件内容或编码不正确（`import_invalid` 逐行列出，`import_encoding`）")


@router.post("/registry/students", response_model=ImportSummary, summary="导入学籍", responses=_IMPORT_PROBLEMS, openapi_extra=_CSV)
async def import_students(request: Request, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Importer) -> ImportSummary:
    """E13：运营人员可导入任何学校的学籍，学校老师只能导入本校的。"""
    text = await _csv_text(request, settings.max_import_bytes)
    # Ops imports any school; a teacher only their own school's students.
    scope = None if principal.has("ops") else principal.school_code
    if scope is None and not principal.has("ops"):
        raise forbidden()
    return _result(await service.import_students(uow, clock, text, school_scope=scope))


@router.post("/registry/scores", response_model=ImportSummary, summary="导入四级成绩", responses=_IMPORT_PROBLEMS, openapi_extra=_CSV)
async def import_scores(request: Request, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Importer) -> ImportSummary:
    """E10：成绩是全国数据，只有运营人员可以导入，老师不能改写。"""
    # Score records are national data: ops only, teachers may not rewrite them.
    if not principal.has("ops"):
        raise forbidden()
    text = await _csv_text(request, settings.max_import_bytes)
    return _result(await service.import_scores(uow, clock, text))
