"""Operations (role ops): set up, publish and watch exam sessions; change capacity live; arrange."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from enrolment.api.deps import EnrolmentDep, Ops
from enrolment.api.schemas import CapacityChange, Created
from enrolment.service import arrangement, sessions
from enrolment.service.session_specs import CampusSpec, NoticeSpec, SchoolOralSpec, SessionSpec

router = APIRouter(prefix="/ops", tags=["operations"])


@router.post("/sessions", response_model=Created, status_code=status.HTTP_201_CREATED)
async def create_session(body: SessionSpec, ctx: EnrolmentDep, _: Ops) -> Created:
    """N1/N2/N3/N10: the whole session in one document (the same one enrolment-admin reads)."""
    return Created(id=await sessions.create_session(ctx.unit_of_work, body))


@router.get("/sessions/{session_id}")
async def show_session(session_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> dict[str, Any]:
    return await sessions.session_overview(ctx.sessions, session_id)


@router.post("/sessions/{session_id}/campuses", status_code=status.HTTP_201_CREATED)
async def add_campus(session_id: uuid.UUID, body: CampusSpec, ctx: EnrolmentDep, _: Ops) -> dict[str, list[uuid.UUID]]:
    return {"offering_ids": await sessions.add_campus(ctx.unit_of_work, session_id, body)}


@router.post("/sessions/{session_id}/notices", status_code=status.HTTP_204_NO_CONTENT)
async def add_notice(session_id: uuid.UUID, body: NoticeSpec, ctx: EnrolmentDep, _: Ops) -> None:
    await sessions.add_notice(ctx.unit_of_work, session_id, body)


@router.put("/sessions/{session_id}/school-oral-settings", status_code=status.HTTP_204_NO_CONTENT)
async def school_oral_setting(session_id: uuid.UUID, body: SchoolOralSpec, ctx: EnrolmentDep, _: Ops) -> None:
    await sessions.set_school_oral_setting(ctx.unit_of_work, session_id, body)


@router.post("/sessions/{session_id}/publication")
async def publish(session_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> dict[str, Any]:
    event = await sessions.publish(ctx.unit_of_work, ctx.clock, session_id)
    return event.model_dump(mode="json")


@router.put("/offerings/{offering_id}/capacity")
async def change_capacity(offering_id: uuid.UUID, body: CapacityChange, ctx: EnrolmentDep, _: Ops) -> dict[str, int]:
    """N11 live: never below the seats already held; new seats serve the waiting list first."""
    return await sessions.set_capacity(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, offering_id, body.capacity)


@router.post("/sessions/{session_id}/arrangement")
async def arrange(session_id: uuid.UUID, ctx: EnrolmentDep, _: Ops) -> dict[str, int]:
    """N13 编排, after registration closes."""
    return {"arranged": await arrangement.arrange(ctx.unit_of_work, ctx.clock, ctx.settings.seats_per_room, session_id)}
