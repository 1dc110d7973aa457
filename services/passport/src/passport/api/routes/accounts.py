from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from cet_shared.auth import ACCESS_COOKIE, app_revocations, bearer_token, current_principal
from cet_shared.contract import link, problems
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
_NO_STORE = {"Cache-Control": {"description": "no-store：令牌不得缓存", "required": True, "schema": {"type": "string", "enum": ["no-store"]}}}
_LOG_IN = link(
    "log_in", "用刚注册的邮箱和密码登录（另需新的验证码）",
    body={"email": "$request.body#/email", "password": "$request.body#/password", "captcha_token": "$request.body#/captcha_token", "captcha_answer": "$request.body#/captcha_answer"},
)
_ACCOUNT_PAGE = link("account_page", "登录后查看账号信息")


def _profile(body: ProfileFields) -> service.Profile:
    return service.Profile(phone=body.phone, id_type=body.id_type, id_number=body.id_number, name=body.name)


@router.post(
    "/accounts", status_code=status.HTTP_202_ACCEPTED, response_model=Message, summary="注册通行证账号",
    responses={202: {"description": "已受理（邮箱是否已注册，回答都一样）", "links": {"log_in": _LOG_IN}}, **problems(400)},
)
async def register(body: RegisterRequest, ctx: PassportDep) -> Message:
    """P1 注册：邮箱是否已有账号，回答都一样；登录后在账号信息页可以看到通行证ID。"""
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


@router.post(
    "/sessions", response_model=LoggedIn, summary="登录",
    responses={200: {"description": "已登录：访问令牌（同时写入 HttpOnly Cookie）", "headers": _NO_STORE, "links": {"account_page": _ACCOUNT_PAGE}},
               **problems(400, 401, 429, s401="账号或密码错误（`invalid_credentials`）")},
)
async def log_in(body: LoginRequest, ctx: PassportDep, client: ClientAddress, response: Response) -> LoggedIn:
    """P2 登录：令牌同时写入门户使用的 HttpOnly Cookie。"""
    session = await service.log_in(
        ctx, email=body.email, password=body.password, captcha_token=body.captcha_token, captcha_answer=body.captcha_answer, client=client
    )
    response.headers["Cache-Control"] = "no-store"  # a token must never sit in a cache (RFC 6749 §5.1)
    response.set_cookie(
        ACCESS_COOKIE, session.access_token, max_age=session.expires_in, httponly=True, samesite="strict", path="/",
        secure=ctx.settings.environment not in ("development", "test"),
    )
    return LoggedIn(access_token=session.access_token, expires_in=session.expires_in, passport_id=session.passport_id)


@router.delete("/sessions", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录", responses=problems(403))
async def log_out(request: Request, ctx: PassportDep, response: Response) -> Response:
    """退出：本次登录的令牌在各服务都失效，并清除 Cookie。"""
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


@router.get("/me", response_model=AccountPage, summary="账号信息")
async def account_page(account: CurrentAccount) -> AccountPage:
    """P5 账号信息。"""
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


@router.put("/me/profile", response_model=Message, summary="修改资料", responses=problems(409))
async def update_profile(body: ProfileFields, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P5 修改资料（电话、证件类型与号码、姓名）。"""
    await service.update_profile(ctx, passport_id=account.passport_id, profile=_profile(body))
    return Message(message="修改成功")


@router.post("/me/email", response_model=Message, status_code=status.HTTP_202_ACCEPTED, summary="修改邮箱", responses=problems(400, 409, 429))
async def change_email(body: EmailChangeRequest, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P6 修改邮箱：须点击发到新邮箱的链接完成验证。"""
    await service.request_email_change(
        ctx, passport_id=account.passport_id, new_email=str(body.new_email), captcha_token=body.captcha_token, captcha_answer=body.captcha_answer
    )
    return Message(message="验证邮件已发送到新邮箱，请点击邮件中的链接完成修改")


@router.post("/me/email/verification", response_model=Message, status_code=status.HTTP_202_ACCEPTED, summary="重新发送验证邮件", responses=problems(409, 429))
async def resend_verification(account: CurrentAccount, ctx: PassportDep) -> Message:
    """P5 验证邮箱。"""
    await service.resend_verification(ctx, passport_id=account.passport_id)
    return Message(message="验证邮件已发送，请查收")


@router.post("/email/verify", response_model=Message, summary="验证邮箱（邮件中的链接）", responses=problems(400, 409))
async def verify_email(body: EmailVerifyRequest, ctx: PassportDep) -> Message:
    """P5、P6：凭邮件中的一次性链接验证邮箱。"""
    await service.verify_email(ctx, token=body.token)
    return Message(message="邮箱验证成功")


@router.post("/me/password", response_model=Message, summary="修改密码", responses=problems(400))
async def change_password(body: PasswordChangeRequest, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P7 修改密码：其他登录随之失效。"""
    await service.change_password(
        ctx, passport_id=account.passport_id, old_password=body.old_password, new_password=body.new_password, confirm_password=body.confirm_password
    )
    return Message(message="修改密码成功")


@router.post("/password/recovery", response_model=Message, status_code=status.HTTP_202_ACCEPTED, summary="密码找回", responses=problems(400, 429))
async def request_password_reset(body: PasswordRecoveryRequest, ctx: PassportDep, client: ClientAddress) -> Message:
    """P4 密码找回：邮箱是否已注册，回答都一样。"""
    await service.request_password_reset(
        ctx, email=str(body.email), captcha_token=body.captcha_token, captcha_answer=body.captcha_answer, client=client
    )
    return Message(message="如果该邮箱已注册，密码找回邮件已发送，请查收邮件并按提示操作")


@router.post("/password/reset", response_model=Message, summary="重设密码（邮件中的链接）", responses=problems(400))
async def reset_password(body: PasswordResetRequest, ctx: PassportDep) -> Message:
    """P4：凭邮件中的一次性链接重设密码，此前的登录全部失效。"""
    await service.reset_password(ctx, token=body.token, email=str(body.email), password=body.password, confirm_password=body.confirm_password)
    return Message(message="修改密码成功")
