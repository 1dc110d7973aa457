"""管理人员登录: the password, then a TOTP code (enrolled at the first log-in)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from cet_shared.auth import ACCESS_COOKIE, CurrentPrincipal
from passport.api.deps import ClientAddress, PassportDep
from passport.api.schemas import LoginRequest
from passport.api.staff_schemas import SecondFactorChallenge, SecondFactorRequest, StaffLoggedIn, StaffScopeView
from passport.service import staff_login as service
from passport.service.log_in import Credentials

router = APIRouter(tags=["staff"])


@router.post("/staff/sessions", response_model=SecondFactorChallenge)
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


@router.post("/staff/sessions/second-factor", response_model=StaffLoggedIn)
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


@router.get("/staff/me", response_model=StaffScopeView)
async def my_scope(principal: CurrentPrincipal) -> StaffScopeView:
    """What the console shows and offers: the session's roles and scope, as the token carries them."""
    return StaffScopeView(roles=sorted(principal.roles), school_code=principal.school_code, province_code=principal.province_code)
