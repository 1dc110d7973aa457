"""The candidate's pages (guide steps 9–15). The caller's registration comes from the
RegistrationBound projection of the token's passport id."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import JSONResponse

from enrolment.api.deps import Candidate, EnrolmentDep
from enrolment.api.schemas import Acknowledged, Enrolled, OralChoice, Waiting, WrittenChoice
from enrolment.service import arrangement, enrol, info_page, notices, waitlist
from enrolment.service import cancel as cancelling
from enrolment.service import oral_campuses as campuses

router = APIRouter(prefix="/me", tags=["candidate"])


@router.get("/registration")
async def registration(ctx: EnrolmentDep, principal: Candidate) -> dict[str, Any]:
    """N12 报名信息."""
    return await info_page.registration_page(ctx.sessions, ctx.clock, principal.passport_id)


@router.post("/notices/acknowledgement", response_model=Acknowledged)
async def acknowledge(ctx: EnrolmentDep, principal: Candidate) -> Acknowledged:
    """N3: read 报考须知 and 省通告 before choosing written subjects."""
    return Acknowledged(acknowledged_at=await notices.acknowledge_notices(ctx.unit_of_work, ctx.clock, principal.passport_id))


@router.post("/written", response_model=Enrolled, status_code=status.HTTP_201_CREATED)
async def enrol_written(body: WrittenChoice, ctx: EnrolmentDep, principal: Candidate) -> Enrolled:
    """笔试报考 (N4, N5, N7)."""
    return Enrolled(enrolment_ids=await enrol.enrol_written(
        ctx.hold_stores, ctx.clock, ctx.settings.unpaid_lifetime, principal.passport_id, list(body.subject_codes)
    ))


@router.get("/oral/{subject_code}/campuses")
async def oral_campuses(ctx: EnrolmentDep, principal: Candidate, subject_code: str = Path(max_length=2)) -> dict[str, Any]:
    """口试报名校区 (N10) with remaining capacity and its colour (N11)."""
    return asdict(await campuses.oral_campuses(ctx.sessions, ctx.clock, principal.passport_id, subject_code))


@router.get("/oral/offerings/{offering_id}/notices")
async def campus_notices(offering_id: uuid.UUID, ctx: EnrolmentDep, principal: Candidate) -> list[dict[str, Any]]:
    return await notices.school_notices(ctx.sessions, principal.passport_id, offering_id)


@router.post("/oral", response_model=Enrolled, status_code=status.HTTP_201_CREATED)
async def enrol_oral(body: OralChoice, ctx: EnrolmentDep, principal: Candidate) -> JSONResponse:
    """口试报考 (N9, N11). The sign-up peak's hot path: the answer is written directly (it is an
    `Enrolled`), without validating our own output again."""
    enrolment_id = await enrol.enrol_oral(
        ctx.hold_stores, await ctx.full_campuses(), ctx.clock, ctx.settings.unpaid_lifetime, principal.passport_id, body.offering_id
    )
    return JSONResponse({"enrolment_ids": [str(enrolment_id)]}, status_code=status.HTTP_201_CREATED)


@router.delete("/enrolments/{enrolment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel(enrolment_id: uuid.UUID, ctx: EnrolmentDep, principal: Candidate) -> Response:
    """N8: cancel an unpaid subject."""
    await cancelling.cancel(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, principal.passport_id, enrolment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/waitlist", response_model=Waiting, status_code=status.HTTP_201_CREATED)
async def join_waitlist(body: OralChoice, ctx: EnrolmentDep, principal: Candidate) -> Waiting:
    """N14 候补."""
    return Waiting(waitlist_id=await waitlist.join_waitlist(ctx.unit_of_work, ctx.clock, principal.passport_id, body.offering_id))


@router.delete("/waitlist/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def leave_waitlist(ctx: EnrolmentDep, principal: Candidate, entry_id: int = Path(ge=1, le=2**62)) -> Response:
    await waitlist.leave_waitlist(ctx.unit_of_work, ctx.clock, principal.passport_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/enrolments/{enrolment_id}/ticket.pdf")
async def ticket(enrolment_id: uuid.UUID, ctx: EnrolmentDep, principal: Candidate) -> Response:
    """N13 准考证 download."""
    number, pdf = await arrangement.ticket_pdf(ctx.sessions, ctx.clock, principal.passport_id, enrolment_id)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="ticket-{number}.pdf"'})
