"""The candidate's pages (guide steps 9–15). The caller's registration comes from the
RegistrationBound projection of the token's passport id."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import JSONResponse

from cet_shared.contract import link, problems
from enrolment.api.deps import Candidate, EnrolmentDep
from enrolment.api.responses import Notice, OralCampuses, RegistrationPage
from enrolment.api.schemas import Acknowledged, Enrolled, OralChoice, Waiting, WrittenChoice
from enrolment.service import arrangement, cancel as cancelling, enrol, info_page, notices, oral_campuses as campuses, waitlist

router = APIRouter(prefix="/me", tags=["candidate"])


_ENROLLED_LINKS = {
    "cancel": link("cancel", "取消刚报考的科目（未支付时）", parameters={"enrolment_id": "$response.body#/enrolment_ids/0"}),
    "registration": link("registration", "报名信息页：应缴金额；支付见 payment 服务的 POST /orders（确定）与 /orders/{order_id}/checkout"),
}


@router.get("/registration", response_model=RegistrationPage, summary="报名信息", responses=problems(404))
async def registration(ctx: EnrolmentDep, principal: Candidate) -> dict:
    """N12 报名信息：个人信息、笔试与口试科目、缴费与编排状态、流程、候补与通告。"""
    return await info_page.registration_page(ctx.sessions, ctx.clock, principal.passport_id)


@router.post("/notices/acknowledgement", response_model=Acknowledged, summary="已阅读报考须知与省通告", responses=problems(404))
async def acknowledge(ctx: EnrolmentDep, principal: Candidate) -> Acknowledged:
    """N3：选择笔试科目前须阅读报考须知与省通告。"""
    return Acknowledged(acknowledged_at=await notices.acknowledge_notices(ctx.unit_of_work, ctx.clock, principal.passport_id))


@router.post(
    "/written",
    response_model=Enrolled,
    status_code=status.HTTP_201_CREATED,
    summary="笔试报考",
    responses={201: {"description": "已报考，24 小时内须支付", "links": _ENROLLED_LINKS}, **problems(403, 404, 409)},
)
async def enrol_written(body: WrittenChoice, ctx: EnrolmentDep, principal: Candidate) -> Enrolled:
    """笔试报考（N4、N5、N7）。"""
    return Enrolled(
        enrolment_ids=await enrol.enrol_written(ctx.hold_stores, ctx.clock, ctx.settings.unpaid_lifetime, principal.passport_id, list(body.subject_codes))
    )


@router.get("/oral/{subject_code}/campuses", response_model=OralCampuses, summary="口试报名校区", responses=problems(404))
async def oral_campuses(ctx: EnrolmentDep, principal: Candidate, subject_code: str = Path(max_length=2)) -> dict:
    """口试报名校区（N10），含剩余考位及其颜色（N11）。"""
    return asdict(await campuses.oral_campuses(ctx.sessions, ctx.clock, principal.passport_id, subject_code))


@router.get("/oral/offerings/{offering_id}/notices", response_model=list[Notice], summary="所选校区的学校通告", responses=problems(404))
async def campus_notices(offering_id: uuid.UUID, ctx: EnrolmentDep, principal: Candidate) -> list[dict]:
    """选择校区后加载该校的通告（N10）。"""
    return await notices.school_notices(ctx.sessions, principal.passport_id, offering_id)


@router.post(
    "/oral",
    response_model=Enrolled,
    status_code=status.HTTP_201_CREATED,
    summary="口试报考",
    responses={201: {"description": "已占考位，24 小时内须支付", "links": _ENROLLED_LINKS}, **problems(403, 404, 409)},
)
async def enrol_oral(body: OralChoice, ctx: EnrolmentDep, principal: Candidate) -> JSONResponse:
    """口试报考（N9、N11）。报名高峰的热点路径：直接写出应答（即 `Enrolled`），不再校验自己的输出。"""
    enrolment_id = await enrol.enrol_oral(
        ctx.hold_stores, await ctx.full_campuses(), ctx.clock, ctx.settings.unpaid_lifetime, principal.passport_id, body.offering_id
    )
    return JSONResponse({"enrolment_ids": [str(enrolment_id)]}, status_code=status.HTTP_201_CREATED)


@router.delete("/enrolments/{enrolment_id}", status_code=status.HTTP_204_NO_CONTENT, summary="取消报考", responses=problems(404, 409))
async def cancel(enrolment_id: uuid.UUID, ctx: EnrolmentDep, principal: Candidate) -> Response:
    """N8：取消未支付的科目（考位归还，候补者优先）。"""
    await cancelling.cancel(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, principal.passport_id, enrolment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/waitlist",
    response_model=Waiting,
    status_code=status.HTTP_201_CREATED,
    summary="候补口试考位",
    responses={
        201: {"description": "已加入候补", "links": {"leave": link("leave_waitlist", "退出候补", parameters={"entry_id": "$response.body#/waitlist_id"})}},
        **problems(403, 404, 409),
    },
)
async def join_waitlist(body: OralChoice, ctx: EnrolmentDep, principal: Candidate) -> Waiting:
    """N14 候补。"""
    return Waiting(waitlist_id=await waitlist.join_waitlist(ctx.unit_of_work, ctx.clock, principal.passport_id, body.offering_id))


@router.delete("/waitlist/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, summary="退出候补", responses=problems(404))
async def leave_waitlist(ctx: EnrolmentDep, principal: Candidate, entry_id: int = Path(ge=1, le=2**62)) -> Response:
    """N14：退出候补队列。"""
    await waitlist.leave_waitlist(ctx.unit_of_work, ctx.clock, principal.passport_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/enrolments/{enrolment_id}/ticket.pdf",
    summary="下载准考证",
    response_class=Response,
    responses={200: {"description": "准考证 PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}, **problems(404, 409)},
)
async def ticket(enrolment_id: uuid.UUID, ctx: EnrolmentDep, principal: Candidate) -> Response:
    """N13 准考证下载（编排后、在打印时间内）。"""
    number, pdf = await arrangement.ticket_pdf(ctx.sessions, ctx.clock, principal.passport_id, enrolment_id)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="ticket-{number}.pdf"'})
