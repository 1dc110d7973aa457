"""The candidate's pages: agreement (E2), qualification query and confirmation (E3–E5), save and
continue (E6, E7), the header and start page (E8), the registration's personal part."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cet_shared.problems import Problem
from eligibility.api.deps import Candidate, ClientAddress, ClockDep, SettingsDep, UnitOfWorkDep
from eligibility.api.schemas import AgreementAcceptance, Identity, SaveRequest
from eligibility.service import registrations as service

router = APIRouter(tags=["candidate"])


@router.get("/home")
async def home(uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict[str, Any]:
    """E8: 姓名 in the header (未设置 before binding), 考次名称 and 报名状态 of the start page."""
    return await service.home(uow, clock, settings, passport_id=principal.passport_id)


@router.get("/agreement")
async def agreement(uow: UnitOfWorkDep, settings: SettingsDep, principal: Candidate) -> dict[str, Any]:
    accepted = await service.has_accepted(uow, settings, passport_id=principal.passport_id)
    return {"version": settings.agreement_version, "accepted": accepted}


@router.post("/agreement")
async def accept_agreement(body: AgreementAcceptance, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict[str, Any]:
    """E2: tick and accept (同意) before the qualification query; the version is recorded."""
    if not body.accepted:
        raise Problem(422, "agreement_not_accepted", "请勾选“我已阅读并接受遵守本网站报名协议”后点击同意")
    await service.accept_agreement(uow, clock, settings, passport_id=principal.passport_id, version=body.version)
    return {"version": body.version, "accepted": True}


@router.post("/qualification/query")
async def query(body: Identity, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate, client: ClientAddress) -> dict[str, Any]:
    """E3 资格信息查询 → E4 资格信息确认. Rate limited per account and per client."""
    return await service.query(
        uow, clock, settings, passport_id=principal.passport_id, client=client, id_type=body.id_type, id_number=body.id_number, name=body.name
    )


@router.post("/registrations")
async def save(body: SaveRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict[str, Any]:
    """E6 保存并继续 (inside the window, box ticked), E7 one to one."""
    return await service.save(
        uow, clock, settings, passport_id=principal.passport_id, id_type=body.id_type, id_number=body.id_number, name=body.name, confirmed=body.confirmed
    )


@router.get("/registrations/me")
async def my_registration(uow: UnitOfWorkDep, clock: ClockDep, principal: Candidate) -> dict[str, Any]:
    return await service.my_registration(uow, clock, passport_id=principal.passport_id)
