"""员工账号管理: operations (every role) and province administrators (their province's teachers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from cet_shared.auth import CurrentPrincipal
from cet_shared.contract import problems
from passport.api.deps import PassportDep
from passport.api.schemas import Message
from passport.api.staff_schemas import NewStaffRequest, StaffAccount, StaffCreated
from passport.bootstrap import PassportContainer
from passport.service import staff_accounts as service


def _desk(ctx: PassportContainer) -> service.StaffDesk:
    return service.StaffDesk(
        units=ctx.unit_of_work,
        sessions=ctx.sessions,
        clock=ctx.clock,
        settings=ctx.settings,
        passwords=ctx.passwords,
        links=ctx.links,
        access_lifetime=ctx.signer.lifetime,
    )


router = APIRouter(tags=["staff"])
PassportId = Annotated[str, Path(pattern=r"^[0-9A-F]{32}$", description="通行证ID")]


@router.get(
    "/staff/accounts",
    response_model=list[StaffAccount],
    summary="员工账号列表",
    description="运维看到全部员工，省级管理员只看到本省学校的老师；含最近登录时间与地址。",
    responses=problems(403),
)
async def list_staff(ctx: PassportDep, principal: CurrentPrincipal) -> list[dict]:
    return await service.list_staff(_desk(ctx), principal)


@router.post(
    "/staff/accounts",
    response_model=StaffCreated,
    status_code=status.HTTP_201_CREATED,
    summary="新建员工账号",
    description="创建账号并向其邮箱发送设置密码的链接；省级管理员只能创建本省学校的老师。",
    responses=problems(403, 409),
)
async def create_staff(body: NewStaffRequest, ctx: PassportDep, principal: CurrentPrincipal) -> StaffCreated:
    passport_id = await service.create_staff_account(
        _desk(ctx), principal, service.NewStaff(email=str(body.email), role=body.role, school_code=body.school_code, province_code=body.province_code)
    )
    return StaffCreated(passport_id=passport_id, message="账号已创建，设置密码的邮件已发送")


@router.post(
    "/staff/accounts/{passport_id}/disable",
    response_model=StaffAccount,
    summary="停用员工账号",
    description="停用后该账号在所有服务中的会话立即失效。",
    responses=problems(403, 404),
)
async def disable(passport_id: PassportId, ctx: PassportDep, principal: CurrentPrincipal) -> dict:
    return await service.set_disabled(_desk(ctx), principal, passport_id, disabled=True)


@router.post(
    "/staff/accounts/{passport_id}/enable",
    response_model=StaffAccount,
    summary="启用员工账号",
    description="重新启用已停用的账号。",
    responses=problems(403, 404),
)
async def enable(passport_id: PassportId, ctx: PassportDep, principal: CurrentPrincipal) -> dict:
    return await service.set_disabled(_desk(ctx), principal, passport_id, disabled=False)


@router.post(
    "/staff/accounts/{passport_id}/password-link",
    response_model=Message,
    status_code=status.HTTP_202_ACCEPTED,
    summary="发送重设密码链接",
    description="向该员工的邮箱发送设置新密码的链接。",
    responses=problems(403, 404),
)
async def password_link(passport_id: PassportId, ctx: PassportDep, principal: CurrentPrincipal) -> Message:
    await service.send_password_link(_desk(ctx), principal, passport_id)
    return Message(message="重置密码的邮件已发送")


@router.post(
    "/staff/accounts/{passport_id}/second-factor-reset",
    response_model=StaffAccount,
    summary="重置动态验证码",
    description="手机与恢复码都丢失时使用：下次登录重新绑定，原有会话立即失效。",
    responses=problems(403, 404),
)
async def reset_second_factor(passport_id: PassportId, ctx: PassportDep, principal: CurrentPrincipal) -> dict:
    return await service.reset_second_factor(_desk(ctx), principal, passport_id)
