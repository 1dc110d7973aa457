from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from cet_shared.auth import ACCESS_COOKIE, Principal, app_revocations, bearer_token, current_principal, refuse_cross_site, session_expired
from cet_shared.contract import link, problems
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
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
from passport.bootstrap import PassportContainer
from passport.domain.accounts import Profile
from passport.service import email_verification, log_in as logging_in, profile, recovery, registration, sessions
from passport.service.log_in import Credentials
from passport.service.recovery import PasswordReset
from passport.service.registration import Registration

router = APIRouter(tags=["accounts"])
_NO_STORE = {"Cache-Control": {"description": "no-store：令牌不得缓存", "required": True, "schema": {"type": "string", "enum": ["no-store"]}}}
_LOG_IN = link(
    "log_in",
    "用刚注册的邮箱和密码登录（另需新的验证码）",
    body={
        "email": "$request.body#/email",
        "password": "$request.body#/password",
        "captcha_token": "$request.body#/captcha_token",
        "captcha_answer": "$request.body#/captcha_answer",
    },
)
_ACCOUNT_PAGE = link("account_page", "登录后查看账号信息")

# The refresh token's cookie: HttpOnly, and sent only to the session paths (renewal, log-out).
REFRESH_COOKIE = "cet_refresh"


def _profile(body: ProfileFields) -> Profile:
    return Profile(phone=body.phone, id_type=body.id_type, id_number=body.id_number, name=body.name)


def _session_answer(session: sessions.Session, ctx: PassportContainer, response: Response) -> LoggedIn:
    """Both tokens as HttpOnly cookies for the portal; the access token in the body for API clients."""
    response.headers["Cache-Control"] = "no-store"  # a token must never sit in a cache (RFC 6749 §5.1)
    secure = ctx.settings.environment not in ("development", "test")
    response.set_cookie(ACCESS_COOKIE, session.access_token, max_age=session.expires_in, httponly=True, samesite="strict", path="/", secure=secure)
    if session.refresh_token is None:
        return LoggedIn(access_token=session.access_token, expires_in=session.expires_in, passport_id=session.passport_id)
    response.set_cookie(
        REFRESH_COOKIE,
        session.refresh_token,
        max_age=session.refresh_expires_in,
        httponly=True,
        samesite="strict",
        path=ctx.settings.refresh_cookie_path,
        secure=secure,
    )
    return LoggedIn(access_token=session.access_token, expires_in=session.expires_in, passport_id=session.passport_id)


@router.post(
    "/accounts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Message,
    summary="注册通行证账号",
    responses={202: {"description": "已受理（邮箱是否已注册，回答都一样）", "links": {"log_in": _LOG_IN}}, **problems(400)},
)
async def register(body: RegisterRequest, ctx: PassportDep) -> Message:
    """P1 注册：邮箱是否已有账号，回答都一样；登录后在账号信息页可以看到通行证ID。"""
    await registration.register(
        ctx.unit_of_work(),
        Registration(
            email=str(body.email),
            password=body.password,
            confirm_password=body.confirm_password,
            captcha_token=body.captcha_token,
            captcha_answer=body.captcha_answer,
            profile=_profile(body),
        ),
        passwords=ctx.passwords,
        clock=ctx.clock,
        links=ctx.links,
        settings=ctx.settings,
    )
    return Message(message="注册成功，请使用邮箱和密码登录。验证邮件已发送到您的邮箱")


@router.post(
    "/sessions",
    response_model=LoggedIn,
    summary="登录",
    responses={
        200: {"description": "已登录：访问令牌（同时写入 HttpOnly Cookie）", "headers": _NO_STORE, "links": {"account_page": _ACCOUNT_PAGE}},
        **problems(400, 401, 429, s401="账号或密码错误（`invalid_credentials`）"),
    },
)
async def log_in(body: LoginRequest, ctx: PassportDep, client: ClientAddress, response: Response) -> LoggedIn:
    """P2 登录：令牌同时写入门户使用的 HttpOnly Cookie。"""
    credentials = Credentials(email=body.email, password=body.password, captcha_token=body.captcha_token, captcha_answer=body.captcha_answer, client=client)
    session = await logging_in.log_in(ctx.unit_of_work(), credentials, passwords=ctx.passwords, signer=ctx.signer, clock=ctx.clock, settings=ctx.settings)
    return _session_answer(session, ctx, response)


@router.post(
    "/sessions/refresh",
    response_model=LoggedIn,
    summary="续期登录",
    responses={
        200: {"description": "新的访问令牌与刷新令牌（同时写入 HttpOnly Cookie）", "headers": _NO_STORE},
        **problems(401, 403, s401="登录已过期或刷新令牌已被使用（会话随之结束）"),
    },
)
async def refresh(request: Request, ctx: PassportDep, response: Response) -> LoggedIn:
    """凭刷新 Cookie 换新的访问令牌，无需密码：每个刷新令牌只能用一次，重复使用即结束该会话。"""
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if not refresh_token:
        raise session_expired()
    refuse_cross_site(request)  # authenticated by a cookie alone: only the portal's own pages may ask
    try:
        session = await sessions.refresh_session(ctx.unit_of_work(), refresh_token, signer=ctx.signer, clock=ctx.clock)
    except Problem as problem:
        if problem.status == 401:  # a dead refresh token: the browser stops sending it
            cleared = Response()
            cleared.delete_cookie(REFRESH_COOKIE, path=ctx.settings.refresh_cookie_path, httponly=True, samesite="strict")
            problem.headers = {**(problem.headers or {}), "set-cookie": cleared.headers["set-cookie"]}
        raise
    return _session_answer(session, ctx, response)


@router.delete("/sessions", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录", responses=problems(403))
async def log_out(request: Request, ctx: PassportDep, response: Response) -> Response:
    """退出：本次登录的令牌在各服务都失效，并清除 Cookie。"""
    principal: Principal | None = None
    if bearer_token(request):
        try:
            principal = await current_principal(request)
        except Problem as problem:
            if problem.status != 401:
                raise
    revoked = await sessions.log_out(ctx.unit_of_work(), principal, request.cookies.get(REFRESH_COOKIE), clock=ctx.clock)
    local = app_revocations(request)
    if local is not None:  # this process refuses them at once, not after its next re-read
        for event in revoked:
            local.remember(event)
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=ctx.settings.refresh_cookie_path)
    response.status_code = status.HTTP_204_NO_CONTENT
    return response


@router.get("/me", response_model=AccountPage, summary="账号信息")
async def account_page(account: CurrentAccount) -> AccountPage:
    """P5 账号信息。"""
    return AccountPage(
        passport_id=account.passport_id,
        email=account.email,
        email_verified=account.email_verified_at is not None,
        phone=account.profile.phone,
        id_type=account.profile.id_type,
        id_type_label=IdType(account.profile.id_type).label if account.profile.id_type else None,
        id_number=account.profile.id_number,
        name=account.profile.name,
        roles=list(account.roles),
        school_code=account.school_code,
    )


@router.put("/me/profile", response_model=Message, summary="修改资料", responses=problems(409))
async def update_profile(body: ProfileFields, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P5 修改资料（电话、证件类型与号码、姓名）。"""
    await profile.update_profile(ctx.unit_of_work(), account.passport_id, _profile(body), clock=ctx.clock)
    return Message(message="修改成功")


@router.post("/me/email", response_model=Message, status_code=status.HTTP_202_ACCEPTED, summary="修改邮箱", responses=problems(400, 409, 429))
async def change_email(body: EmailChangeRequest, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P6 修改邮箱：须点击发到新邮箱的链接完成验证。"""
    await email_verification.request_email_change(
        ctx.unit_of_work(),
        account.passport_id,
        str(body.new_email),
        captcha_token=body.captcha_token,
        captcha_answer=body.captcha_answer,
        clock=ctx.clock,
        links=ctx.links,
        settings=ctx.settings,
    )
    return Message(message="验证邮件已发送到新邮箱，请点击邮件中的链接完成修改")


@router.post("/me/email/verification", response_model=Message, status_code=status.HTTP_202_ACCEPTED, summary="重新发送验证邮件", responses=problems(409, 429))
async def resend_verification(account: CurrentAccount, ctx: PassportDep) -> Message:
    """P5 验证邮箱。"""
    await email_verification.resend_verification(ctx.unit_of_work(), account.passport_id, clock=ctx.clock, links=ctx.links, settings=ctx.settings)
    return Message(message="验证邮件已发送，请查收")


@router.post("/email/verify", response_model=Message, summary="验证邮箱（邮件中的链接）", responses=problems(400, 409))
async def verify_email(body: EmailVerifyRequest, ctx: PassportDep) -> Message:
    """P5、P6：凭邮件中的一次性链接验证邮箱。"""
    await email_verification.verify_email(ctx.unit_of_work(), body.token, clock=ctx.clock)
    return Message(message="邮箱验证成功")


@router.post("/me/password", response_model=Message, summary="修改密码", responses=problems(400))
async def change_password(body: PasswordChangeRequest, account: CurrentAccount, ctx: PassportDep) -> Message:
    """P7 修改密码：其他登录随之失效。"""
    await profile.change_password(
        ctx.unit_of_work(),
        account.passport_id,
        old_password=body.old_password,
        new_password=body.new_password,
        confirm_password=body.confirm_password,
        passwords=ctx.passwords,
        clock=ctx.clock,
        settings=ctx.settings,
    )
    return Message(message="修改密码成功")


@router.post("/password/recovery", response_model=Message, status_code=status.HTTP_202_ACCEPTED, summary="密码找回", responses=problems(400, 429))
async def request_password_reset(body: PasswordRecoveryRequest, ctx: PassportDep, client: ClientAddress) -> Message:
    """P4 密码找回：邮箱是否已注册，回答都一样。"""
    await recovery.request_password_reset(
        ctx.unit_of_work(),
        str(body.email),
        captcha_token=body.captcha_token,
        captcha_answer=body.captcha_answer,
        client=client,
        clock=ctx.clock,
        links=ctx.links,
        settings=ctx.settings,
    )
    return Message(message="如果该邮箱已注册，密码找回邮件已发送，请查收邮件并按提示操作")


@router.post("/password/reset", response_model=Message, summary="重设密码（邮件中的链接）", responses=problems(400))
async def reset_password(body: PasswordResetRequest, ctx: PassportDep) -> Message:
    """P4：凭邮件中的一次性链接重设密码，此前的登录全部失效。"""
    reset = PasswordReset(token=body.token, email=str(body.email), password=body.password, confirm_password=body.confirm_password)
    await recovery.reset_password(ctx.unit_of_work(), reset, passwords=ctx.passwords, clock=ctx.clock, settings=ctx.settings)
    return Message(message="修改密码成功")
