"""The candidate's pages: agreement (E2), qualification query and confirmation (E3–E5), save and
continue (E6, E7), the header and start page (E8), the registration's personal part."""

from __future__ import annotations

from fastapi import APIRouter

from cet_shared.contract import link, problems
from cet_shared.problems import Problem
from eligibility.api.deps import Candidate, ClientAddress, ClockDep, SettingsDep, UnitOfWorkDep
from eligibility.api.responses import Agreement, Home, QueryAnswer, RegistrationView
from eligibility.api.schemas import AgreementAcceptance, Identity, SaveRequest
from eligibility.service import registrations as service

router = APIRouter(tags=["candidate"])
_SAVE_LINK = link(
    "save",
    "保存并继续：绑定刚查询到的考生（勾选确认后）",
    body={"id_type": "$request.body#/id_type", "id_number": "$request.body#/id_number", "name": "$request.body#/name", "confirmed": True},
)


@router.get("/home", response_model=Home, summary="首页：姓名、考次与报名状态")
async def home(uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict:
    """E8：页头的姓名（绑定前为“未设置”）、首页的考次名称与报名状态。"""
    return await service.home(uow, clock, settings, passport_id=principal.passport_id)


@router.get("/agreement", response_model=Agreement, summary="报名协议的版本与是否已同意")
async def agreement(uow: UnitOfWorkDep, settings: SettingsDep, principal: Candidate) -> Agreement:
    """E2：当前协议版本，以及本账号是否已同意。"""
    accepted = await service.has_accepted(uow, settings, passport_id=principal.passport_id)
    return Agreement(version=settings.agreement_version, accepted=accepted)


@router.post("/agreement", response_model=Agreement, summary="同意报名协议", responses=problems(409))
async def accept_agreement(body: AgreementAcceptance, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> Agreement:
    """E2：勾选并同意后才能查询资格；记录所同意的版本。"""
    if not body.accepted:
        raise Problem(422, "agreement_not_accepted", "请勾选“我已阅读并接受遵守本网站报名协议”后点击同意")
    await service.accept_agreement(uow, clock, settings, passport_id=principal.passport_id, version=body.version)
    return Agreement(version=body.version, accepted=True)


@router.post(
    "/qualification/query",
    response_model=QueryAnswer,
    summary="资格信息查询",
    responses={200: {"description": "资格信息确认页", "links": {"save": _SAVE_LINK}}, **problems(404, 429)},
)
async def query(body: Identity, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate, client: ClientAddress) -> dict:
    """E3 资格信息查询 → E4 资格信息确认。按账号、按所查证件号码和按来源地址限制次数。"""
    return await service.query(
        uow, clock, settings, passport_id=principal.passport_id, client=client, id_type=body.id_type, id_number=body.id_number, name=body.name
    )


@router.post("/registrations", response_model=RegistrationView, summary="保存并继续", responses=problems(404, 409))
async def save(body: SaveRequest, uow: UnitOfWorkDep, clock: ClockDep, settings: SettingsDep, principal: Candidate) -> dict:
    """E6 保存并继续（报名时间内、已勾选确认），E7 一个账号只绑定一名考生。"""
    return await service.save(
        uow, clock, settings, passport_id=principal.passport_id, id_type=body.id_type, id_number=body.id_number, name=body.name, confirmed=body.confirmed
    )


@router.get("/registrations/me", response_model=RegistrationView, summary="本账号在本考次的报名信息", responses=problems(404))
async def my_registration(uow: UnitOfWorkDep, clock: ClockDep, principal: Candidate) -> dict:
    """本账号自己的报名信息（证件号码已遮盖），不能查看他人的。"""
    return await service.my_registration(uow, clock, passport_id=principal.passport_id)
