"""Operations (role ops): set up, publish and watch exam sessions; change capacity live; arrange."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import JSONResponse

from cet_shared.contract import problems
from cet_shared.events.contracts import ExamSessionPublished
from cet_shared.problems import Problem
from enrolment.api.deps import EnrolmentDep, Ops
from enrolment.api.responses import Arranged, ArrangementJobs, ArrangementJobView, CapacityChanged, OfferingIds, SessionOverview
from enrolment.api.schemas import CapacityChange, Created
from enrolment.domain.arrangement import STATUS_LABELS, ArrangementJob
from enrolment.service import arrangement_job, sessions
from enrolment.service.session_specs import CampusSpec, NoticeSpec, SchoolOralSpec, SessionSpec

router = APIRouter(prefix="/ops", tags=["operations"])


@router.post("/sessions", response_model=Created, status_code=status.HTTP_201_CREATED, summary="新建考次", responses=problems(409))
async def create_session(body: SessionSpec, ctx: EnrolmentDep, _: Ops) -> Created:
    """N1、N2、N3、N10：整个考次一次提交（与 enrolment-admin 读取的文档相同）；发布前考生看不到。"""
    return Created(id=await sessions.create_session(ctx.unit_of_work, body))


@router.get("/sessions/{session_id}", response_model=SessionOverview, summary="考次概况", responses=problems(404))
async def show_session(session_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> dict:
    """考次设置及各校区科目的容量与占用。"""
    return await sessions.session_overview(ctx.sessions, session_id)


@router.post(
    "/sessions/{session_id}/campuses", response_model=OfferingIds, status_code=status.HTTP_201_CREATED, summary="增加校区", responses=problems(404, 409)
)
async def add_campus(session_id: uuid.UUID, body: CampusSpec, ctx: EnrolmentDep, _: Ops) -> OfferingIds:
    """N10：增加一个校区及其开考科目。"""
    return OfferingIds(offering_ids=await sessions.add_campus(ctx.unit_of_work, session_id, body))


@router.post("/sessions/{session_id}/notices", status_code=status.HTTP_204_NO_CONTENT, summary="增加通告", responses=problems(404))
async def add_notice(session_id: uuid.UUID, body: NoticeSpec, ctx: EnrolmentDep, _: Ops) -> None:
    """N3：报考须知、省通告或学校通告。"""
    await sessions.add_notice(ctx.unit_of_work, session_id, body)


@router.put("/sessions/{session_id}/school-oral-settings", status_code=status.HTTP_204_NO_CONTENT, summary="学校口试设置", responses=problems(404))
async def school_oral_setting(session_id: uuid.UUID, body: SchoolOralSpec, ctx: EnrolmentDep, _: Ops) -> None:
    """N10：本校考生可否在外校参加口试。"""
    await sessions.set_school_oral_setting(ctx.unit_of_work, session_id, body)


@router.post("/sessions/{session_id}/publication", response_model=ExamSessionPublished, summary="发布考次", responses=problems(404, 409))
async def publish(session_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> dict:
    """发布后考生可见；应答即发布的 ExamSessionPublished 事件。"""
    event = await sessions.publish(ctx.unit_of_work, ctx.clock, session_id)
    return event.model_dump(mode="json")


@router.put("/offerings/{offering_id}/capacity", response_model=CapacityChanged, summary="在线修改口试容量", responses=problems(404, 409))
async def change_capacity(offering_id: uuid.UUID, body: CapacityChange, ctx: EnrolmentDep, _: Ops) -> dict:
    """N11 在线修改：不低于已占用的考位；新增考位先给候补者。"""
    return await sessions.set_capacity(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, offering_id, body.capacity)


def _view(job: ArrangementJob) -> ArrangementJobView:
    return ArrangementJobView(
        id=job.id,
        exam_session_id=job.exam_session_id,
        status=job.status,
        status_label=STATUS_LABELS[job.status],
        total=job.total,
        arranged=job.arranged,
        progress=job.progress,
        error=job.error,
        requested_by=job.requested_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


@router.post(
    "/sessions/{session_id}/arrangement",
    response_model=Arranged,
    summary="编排",
    responses={202: {"model": ArrangementJobView, "description": "已排队的编排任务（Prefer: respond-async），Location 为其进度"}, **problems(404, 409)},
)
async def arrange(
    session_id: uuid.UUID, response: Response, ctx: EnrolmentDep, principal: Ops, prefer: Annotated[str | None, Header()] = None
) -> Arranged | JSONResponse:
    """N13 编排（报名结束后），由后台任务分批完成。带 Prefer: respond-async 时立即以 202 和 Location（任务进度）应答，
    编排进行中再次提交得到同一任务；不带时等待任务完成，应答本次编排的科目数。"""
    job, _ = await arrangement_job.request_arrangement(ctx.unit_of_work, ctx.clock, session_id, requested_by=principal.passport_id)
    location = f"/ops/sessions/{session_id}/arrangement/jobs/{job.id}"
    if "respond-async" in (prefer or "").lower():
        headers = {"Location": location, "Preference-Applied": "respond-async"}
        return JSONResponse(_view(job).model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED, headers=headers)
    response.headers["Location"] = location
    done = await arrangement_job.finish(ctx.unit_of_work, ctx.clock, arrangement_job.ArrangementRun.of(ctx.settings), job.id)
    if done.status == "failed":
        raise Problem(409, "arrangement_failed", done.error or "编排失败")
    return Arranged(arranged=done.arranged)


@router.get("/sessions/{session_id}/arrangement/jobs", response_model=ArrangementJobs, summary="编排任务列表", responses=problems(404))
async def arrangement_jobs(session_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> ArrangementJobs:
    """本考次的编排任务，最近的在前（最多 20 个）。"""
    return ArrangementJobs(items=[_view(job) for job in await arrangement_job.jobs_of(ctx.unit_of_work, session_id)])


@router.get("/sessions/{session_id}/arrangement/jobs/{job_id}", response_model=ArrangementJobView, summary="编排任务进度", responses=problems(404))
async def arrangement_progress(session_id: uuid.UUID, job_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> ArrangementJobView:
    """编排任务的状态、冻结科目数、已编排数与进度（0–1）。"""
    return _view(await arrangement_job.job_of(ctx.unit_of_work, session_id, job_id))
