from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from cet_shared.auth import ACCESS_COOKIE, app_revocations, bearer_token, current_principal
from cet_shared.problems import Problem
from cet_shared.id_types import IdType
from passport.api.deps import ClientAddress, CurrentAccount, PassportDep
from passport.api.schemas import (
    AccountPage,
    EmailChangeRequest,
    EmailVerifyRequest,
    LoggedIn,
    LoginRequest,
    Message,
    PasswordChangeRequest,
    PasswordRecoveryRequest,
    PasswordResetRequest,
    ProfileFields,
    RegisterRequest,
)
from passport.service import accounts as service

router = APIRouter(tags=["accounts"])


def _profile(body: ProfileFields) -> service.Profile:
    return service.Profile(phone=body.phone, id_type=body.id_type, id_number=body.id_number, name=body.name)


@router.post("/accounts", status_code=status.HTTP_202_ACCEPTED, response_model=Message)
async def register(body: RegisterRequest, ctx: PassportDep) -> Message:
    """P1 注册. The same answer whether or not the email already has an account; the passport ID
    shows on the account page after logging in, as on the real site."""
    await service.register(
        ctx,
        email=str(body.email),
        password=body.password,
        confirm_password=body.confirm_password,
        captcha_token=body.captcha_token,
        captcha_answer=body.captcha_answer,
        profile=_profile(body),
    )
    return Message(message="注册成功，请使用邮箱和密码登录。验证邮件已发送到您的邮箱")


@router.post("/sessions", response_model=LoggedIn)
async def log_in(body: LoginRequest, ctx: PassportDep, client: ClientAddress, response: Response) -> LoggedIn:
    """P2 登录. The token is also set as an HttpOnly cookie for the portal."""
    session = await service.log_in(
        ctx, email=body.email, password=body.password, captcha_token=body.captcha_token, captcha_answer=body.captcha_answer, client=client
    )
    response.headers["Cache-Control"] = "no-store"  # a token must never sit in a cache (RFC 6749 §5.1)
    response.set_cookie(
        ACCESS_COOKIE, session.access_token, max_age=session.expires_in, httponly=True, samesite="strict", path="/",
        secure=ctx.settings.environment not in ("development", "test"),
    )
    return LoggedIn(access_token=session.access_token, expires_in=session.expires_in, passport_id=session.passport_id)


@router.delete("/sessions", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(request: Request, ctx: PassportDep, response: Response) -> Response:
    """退出: the session's token is revoked at every service, and the cookie cleared."""
    if bearer_token(request):
        try:
            principal = await current_principal(request)
        except Problem as problem:
            if problem.status != 401:
                raise
        else:
            revoked = await service.log_out(ctx, principal)
            local = app_revocations(request)
            if revoked is not None and local is not None:
                local.remember(revoked)
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.status_code = status.HTTP_204_NO_CONTENT
    return response


@router.get("/me", response_model=AccountPage)
async def account_page(account: CurrentAccount) -> AccountPage:
    """P5 账号信息."""
    return AccountPage(
        passport_id=account.passport_id,
        email=account.email,
        email_verified=account.email_verified_at is not None,
        phone=account.phone,
        id_type=account.id_type,
        id_type_label=IdType(account.id_type).label if account.id_type else None,
        id_number=account.id_number,
        name=account.name,
        roles=list(account.roles),
        school_code=account.school_code,
    )


@router.put("/me/profile", response_model=Message)
async def update_profile(body: ProfileFields, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P5 修改资料 (phone, ID type and number, name)."""
    await service.update_profile(ctx, passport_id=account.passport_id, profile=_profile(body))
    return Message(message="修改成功")


@router.post("/me/email", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
async def change_email(body: EmailChangeRequest, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P6 修改邮箱: the new address must be verified by the link sent to it."""
    await service.request_email_change(
        ctx, passport_id=account.passport_id, new_email=str(body.new_email), captcha_token=body.captcha_token, captcha_answer=body.captcha_answer
    )
    return Message(message="验证邮件已发送到新邮箱，请点击邮件中的链接完成修改")


@router.post("/me/email/verification", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(account: CurrentAccount, ctx: PassportDep) -> Message:
    """P5 验证邮箱."""
    await service.resend_verification(ctx, passport_id=account.passport_id)
    return Message(message="验证邮件已发送，请查收")


@router.post("/email/verify", response_model=Message)
async def verify_email(body: EmailVerifyRequest, ctx: PassportDep) -> Message:
    await service.verify_email(ctx, token=body.token)
    return Message(message="邮箱验证成功")


@router.post("/me/password", response_model=Message)
async def change_password(body: PasswordChangeRequest, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P7 修改密码."""
    await service.change_password(
        ctx, passport_id=account.passport_id, old_password=body.old_password, new_password=body.new_password, confirm_password=body.confirm_password
    )
    return Message(message="修改密码成功")


@router.post("/password/recovery", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(body: PasswordRecoveryRequest, ctx: PassportDep, client: ClientAddress) -> Message:
    """P4 密码找回: the same answer whether or not the email has an account."""
    await service.request_password_reset(
        ctx, email=str(body.email), captcha_token=body.captcha_token, captcha_answer=body.captcha_answer, client=client
    )
    return Message(message="如果该邮箱已注册，密码找回邮件已发送，请查收邮件并按提示操作")


@router.post("/password/reset", response_model=Message)
async def reset_password(body: PasswordResetRequest, ctx: PassportDep) -> Message:
    await service.reset_password(ctx, token=body.token, email=str(body.email), password=body.password, confirm_password=body.confirm_password)
    return Message(message="修改密码成功")
