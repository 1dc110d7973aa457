"""管理人员登录: the password, then a TOTP code (enrolled at the first log-in)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from cet_shared.auth import ACCESS_COOKIE, CurrentPrincipal
from cet_shared.contract import problems
from passport.api.deps import ClientAddress, PassportDep
from passport.api.schemas import LoginRequest
from passport.api.staff_schemas import SecondFactorChallenge, SecondFactorRequest, StaffLoggedIn, StaffScopeView
from passport.service import staff_login as service
from passport.service.log_in import Credentials

router = APIRouter(tags=["staff"])


@router.post(
    "/staff/sessions",
    response_model=SecondFactorChallenge,
    summary="员工登录：密码",
    responses=problems(401, 403, 429),
    description="核对密码，返回一次性的第二因素挑战（首次登录时附动态验证码的绑定二维码）。",
)
async def begin(body: LoginRequest, ctx: PassportDep, client: ClientAddress, response: Response) -> SecondFactorChallenge:
    credentials = Credentials(email=body.email, password=body.password, captcha_token=body.captcha_token, captcha_answer=body.captcha_answer, client=client)
    challenge = await service.begin(ctx.unit_of_work(), credentials, passwords=ctx.passwords, clock=ctx.clock, settings=ctx.settings)
    response.headers["Cache-Control"] = "no-store"  # the enrolment seed must sit in no cache
    enrolment = challenge.enrolment
    return SecondFactorChallenge(
        challenge=challenge.token,
        second_factor=challenge.second_factor,
        expires_in=challenge.expires_in,
        otpauth_uri=enrolment.otpauth_uri if enrolment else None,
        secret=enrolment.secret if enrolment else None,
        qr_svg=enrolment.qr_svg if enrolment else None,
    )


@router.post(
    "/staff/sessions/second-factor",
    response_model=StaffLoggedIn,
    summary="员工登录：动态验证码",
    responses=problems(401, 403, 429),
    description="提交动态验证码或恢复码，通过后签发较短的员工会话（首次绑定时返回恢复码，仅显示一次）。",
)
async def finish(body: SecondFactorRequest, ctx: PassportDep, client: ClientAddress, response: Response) -> StaffLoggedIn:
    session = await service.finish(
        ctx.unit_of_work(),
        body.challenge,
        code=body.code,
        recovery_code=body.recovery_code,
        client=client,
        signer=ctx.signer,
        clock=ctx.clock,
        settings=ctx.settings,
    )
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        ACCESS_COOKIE,
        session.access_token,
        max_age=session.expires_in,
        httponly=True,
        samesite="strict",
        path="/",
        secure=ctx.settings.environment not in ("development", "test"),
    )
    return StaffLoggedIn(
        access_token=session.access_token, expires_in=session.expires_in, passport_id=session.passport_id, recovery_codes=session.recovery_codes
    )


@router.get(
    "/staff/me", response_model=StaffScopeView, summary="员工会话的角色与管理范围", description="管理平台据此显示可用的功能：会话的角色，以及所属学校或省份。"
)
async def my_scope(principal: CurrentPrincipal) -> StaffScopeView:
    """What the console shows and offers: the session's roles and scope, as the token carries them."""
    return StaffScopeView(roles=sorted(principal.roles), school_code=principal.school_code, province_code=principal.province_code)
