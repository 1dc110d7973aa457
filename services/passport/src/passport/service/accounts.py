"""Passport's use cases (P1–P8). Each runs in one unit of work; events and mail commit with it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from cet_shared import audit, revocations
from cet_shared.auth import Principal, session_expired
from cet_shared.db.unit_of_work import UnitOfWork
from cet_shared.events.contracts import AccountEmailChanged, AccountRegistered, SessionsRevoked
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from passport.bootstrap import Passport
from passport.db.tables import accounts, link_tokens
from passport.domain.accounts import (
    WeakPassword,
    check_password_strength,
    hash_link_token,
    new_link_token,
    new_passport_id,
    normalise_email,
    reset_links,
)
from passport.mail import queue_mail
from passport.service.staff_login import second_factor_required, signs_in_with_second_factor

PASSWORD_RESET = "password_reset"
EMAIL_VERIFICATION = "email_verification"

# One hash of a random password, verified against when the email is unknown, so a log-in for
# a missing account costs as long as one for a real account (P2: no enumeration by timing).
_DUMMY_HASH: str | None = None


def invalid_credentials() -> Problem:
    return Problem(401, "invalid_credentials", "账号或密码错误")


def weak_password(reason: str) -> Problem:
    return Problem(422, "weak_password", "密码强度不够", detail=reason)


def passwords_differ() -> Problem:
    return Problem(422, "password_mismatch", "两次输入的密码不一致")


def link_invalid() -> Problem:
    return Problem(400, "link_invalid", "链接无效或已过期，请重新申请")


@dataclass(frozen=True)
class Profile:
    phone: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    name: str | None = None


async def _hash(ctx: Passport, password: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(ctx.hasher.hash, password)


async def _verify(ctx: Passport, password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(ctx.hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_new_password(password: str, confirm: str, email: str | None) -> None:
    if password != confirm:
        raise passwords_differ()
    try:
        check_password_strength(password, email=email)
    except WeakPassword as exc:
        raise weak_password(str(exc)) from None


async def register(ctx: Passport, *, email: str, password: str, confirm_password: str, captcha_token: str, captcha_answer: str, profile: Profile) -> str | None:
    """P1: a new account with a new passport id; AccountRegistered goes out with the commit.

    The caller's answer is the same whether or not the email already has an account (no
    enumeration): a taken address gets a mail telling its owner instead. Returns the new passport
    id, or None when the email was taken.
    """
    async with ctx.unit_of_work() as uow:
        await ctx.captcha.verify(uow.session, captcha_token, captcha_answer, clock=ctx.clock)
        _check_new_password(password, confirm_password, email)
        passport_id = new_passport_id()
        password_hash = await _hash(ctx, password)  # hashed on both paths: same cost, same timing
        now = ctx.clock.now()
        try:
            async with uow.session.begin_nested():
                await uow.session.execute(
                    insert(accounts).values(
                        passport_id=passport_id,
                        email=email.strip(),
                        email_normalised=normalise_email(email),
                        password_hash=password_hash,
                        phone=profile.phone,
                        id_type=profile.id_type,
                        id_number=profile.id_number,
                        name=profile.name,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            owner = await uow.session.scalar(select(accounts.c.email).where(accounts.c.email_normalised == normalise_email(email)))
            await queue_mail(
                uow.session,
                to=owner or email.strip(),
                subject="CET报名网 通行证注册提醒",
                body=(
                    "您好！\n\n有人使用本邮箱申请注册CET报名网通行证，但本邮箱已经注册过通行证，本次注册未生效。\n"
                    "如果是您本人操作，请直接登录；如忘记密码，请在登录页点击“找回密码”。\n如非本人操作，请忽略本邮件。\n"
                ),
            )
            await uow.commit()
            return None
        await uow.publish(AccountRegistered(passport_id=passport_id, email=email.strip(), registered_at=now), key=passport_id)
        await _queue_verification(ctx, uow.session, passport_id, email.strip())
        await uow.commit()
    return passport_id


async def _queue_verification(ctx: Passport, session, passport_id: str, email: str) -> None:  # noqa: ANN001
    token, token_hash = new_link_token()
    await session.execute(
        insert(link_tokens).values(
            token_hash=token_hash,
            passport_id=passport_id,
            purpose=EMAIL_VERIFICATION,
            email=email,
            expires_at=ctx.clock.now() + ctx.settings.email_verification_lifetime,
        )
    )
    links = reset_links(token, campus_base_url=ctx.settings.campus_base_url, public_base_url=ctx.settings.public_base_url)
    campus = links.campus.replace("/password/reset", "/email/verify")
    public = links.public.replace("/password/reset", "/email/verify")
    await queue_mail(
        session,
        to=email,
        subject="CET报名网 邮箱验证",
        body=(
            "您好！\n\n请点击下面的链接验证您的通行证邮箱（两个链接效果相同）：\n"
            f"校园网用户：{campus}\n公网用户：{public}\n\n"
            f"链接{int(ctx.settings.email_verification_lifetime.total_seconds() // 3600)}小时内有效。如非本人操作，请忽略本邮件。\n"
        ),
    )


def login_limits(ctx: Passport) -> tuple[RateLimit, RateLimit]:
    s = ctx.settings
    return (
        RateLimit("login-account", s.login_failures_per_account, s.login_failure_window),
        RateLimit("login-client", s.login_failures_per_client, s.login_failure_window),
    )


@dataclass(frozen=True)
class Session:
    access_token: str
    passport_id: str
    expires_in: int


async def log_in(ctx: Passport, *, email: str, password: str, captcha_token: str, captcha_answer: str, client: str) -> Session:
    """P2: one generic error for a wrong email or password; failures throttled per account and client."""
    per_account, per_client = login_limits(ctx)
    email_key = normalise_email(email)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        await per_client.check(session, client, clock=ctx.clock)
        await per_account.check(session, email_key, clock=ctx.clock)
        await ctx.captcha.verify(session, captcha_token, captcha_answer, clock=ctx.clock)
        row = (await session.execute(select(accounts).where(accounts.c.email_normalised == email_key))).first()
        ok = await _verify(ctx, row.password_hash if row else await _dummy_hash(ctx), password)
        if not row or not ok:
            await per_client.record(session, client, clock=ctx.clock)
            await per_account.record(session, email_key, clock=ctx.clock)
            await uow.commit()
            raise invalid_credentials()
        if signs_in_with_second_factor(row.roles):
            raise second_factor_required()  # staff log in at /staff/sessions, with their TOTP code
        if ctx.hasher.check_needs_rehash(row.password_hash):
            await session.execute(update(accounts).where(accounts.c.passport_id == row.passport_id).values(password_hash=await _hash(ctx, password)))
        await uow.commit()
    token = ctx.signer.issue(
        passport_id=row.passport_id, roles=list(row.roles), token_version=row.token_version, school_code=row.school_code, now=ctx.clock.now()
    )
    return Session(access_token=token, passport_id=row.passport_id, expires_in=int(ctx.signer.lifetime.total_seconds()))


async def _dummy_hash(ctx: Passport) -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await _hash(ctx, new_link_token()[0])
    return _DUMMY_HASH


async def current_account(ctx: Passport, passport_id: str, token_version: int):  # noqa: ANN201
    """The account behind a token, refusing tokens issued before the last password change."""
    async with ctx.sessions() as session:
        row = (await session.execute(select(accounts).where(accounts.c.passport_id == passport_id))).first()
    if row is None or row.token_version != token_version:
        raise session_expired()
    return row


async def _revoke(ctx: Passport, uow: UnitOfWork, event: SessionsRevoked) -> None:
    """Passport refuses the tokens at once (its own table); the other services when the event
    reaches them (cet_shared.revocations)."""
    await revocations.record(uow.session, event)
    await uow.publish(event, key=event.passport_id)


async def _end_older_sessions(ctx: Passport, uow: UnitOfWork, passport_id: str, new_version: int, reason: Literal["password_reset", "password_change"]) -> None:
    now = ctx.clock.now()
    event = SessionsRevoked(
        passport_id=passport_id, reason=reason, token_version_below=new_version, revoked_at=now, expires_at=now + ctx.signer.lifetime
    )
    await _revoke(ctx, uow, event)


async def log_out(ctx: Passport, principal: Principal) -> SessionsRevoked | None:
    """The token of this session stops working everywhere, not only the cookie in this browser."""
    if principal.token_id is None:
        return None  # a token from before tokens had ids: it expires on its own
    async with ctx.unit_of_work() as uow:
        now = ctx.clock.now()
        expires_at = datetime.fromtimestamp(int(principal.claims["exp"]), tz=now.tzinfo)
        event = SessionsRevoked(passport_id=principal.passport_id, reason="log_out", token_id=principal.token_id, revoked_at=now, expires_at=expires_at)
        await _revoke(ctx, uow, event)
        await uow.commit()
    return event


def recovery_limit(ctx: Passport) -> RateLimit:
    return RateLimit("password-recovery", ctx.settings.recovery_requests_per_client, ctx.settings.recovery_window)


async def request_password_reset(ctx: Passport, *, email: str, captcha_token: str, captcha_answer: str, client: str) -> None:
    """P4: the same answer whether or not the account exists; a mail with two links if it does."""
    async with ctx.unit_of_work() as uow:
        await recovery_limit(ctx).consume(uow.session, client, clock=ctx.clock)
        per_account = RateLimit("password-recovery-account", ctx.settings.recovery_requests_per_account, ctx.settings.recovery_window)
        await per_account.consume(uow.session, normalise_email(email), clock=ctx.clock)
        await uow.commit()
    async with ctx.unit_of_work() as uow:
        await ctx.captcha.verify(uow.session, captcha_token, captcha_answer, clock=ctx.clock)
        row = (await uow.session.execute(select(accounts).where(accounts.c.email_normalised == normalise_email(email)))).first()
        if row is not None:
            token, token_hash = new_link_token()
            await uow.session.execute(
                insert(link_tokens).values(
                    token_hash=token_hash,
                    passport_id=row.passport_id,
                    purpose=PASSWORD_RESET,
                    expires_at=ctx.clock.now() + ctx.settings.reset_link_lifetime,
                )
            )
            links = reset_links(token, campus_base_url=ctx.settings.campus_base_url, public_base_url=ctx.settings.public_base_url)
            minutes = int(ctx.settings.reset_link_lifetime.total_seconds() // 60)
            await queue_mail(
                uow.session,
                to=row.email,
                subject="CET报名网 密码找回",
                body=(
                    "您好！\n\n您申请了找回通行证密码。请点击下面任一链接设置新密码（两个链接效果相同，只能使用一次）：\n"
                    f"校园网用户：{links.campus}\n公网用户：{links.public}\n\n"
                    f"链接{minutes}分钟内有效。如非本人操作，请忽略本邮件，您的密码不会改变。\n"
                ),
            )
        await uow.commit()


async def _spend_link(session, token: str, purpose: str, now: datetime):  # noqa: ANN001, ANN202
    """Mark a link token used, atomically: of two concurrent uses only one wins."""
    return (
        await session.execute(
            update(link_tokens)
            .where(
                link_tokens.c.token_hash == hash_link_token(token),
                link_tokens.c.purpose == purpose,
                link_tokens.c.used_at.is_(None),
                link_tokens.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(link_tokens.c.passport_id, link_tokens.c.email)
        )
    ).first()


async def reset_password(ctx: Passport, *, token: str, email: str, password: str, confirm_password: str) -> None:
    """P4: the link page takes the email, the new password and its confirmation; older sessions end."""
    _check_new_password(password, confirm_password, email)
    async with ctx.unit_of_work() as uow:
        now = ctx.clock.now()
        spent = await _spend_link(uow.session, token, PASSWORD_RESET, now)
        if spent is None:
            raise link_invalid()
        row = (await uow.session.execute(select(accounts.c.email_normalised).where(accounts.c.passport_id == spent.passport_id))).first()
        if row is None or row.email_normalised != normalise_email(email):
            # Wrong email: the link stays usable (rolled back) but nothing changes.
            raise Problem(400, "reset_email_mismatch", "邮箱与找回密码的账号不一致")
        version = await uow.session.scalar(
            update(accounts)
            .where(accounts.c.passport_id == spent.passport_id)
            .values(password_hash=await _hash(ctx, password), token_version=accounts.c.token_version + 1, updated_at=now)
            .returning(accounts.c.token_version)
        )
        await _end_older_sessions(ctx, uow, spent.passport_id, version, "password_reset")
        await uow.commit()


async def verify_email(ctx: Passport, *, token: str) -> None:
    """P5/P6: the link in the mail marks the address verified (and, after a change, makes it the account's email)."""
    async with ctx.unit_of_work() as uow:
        now = ctx.clock.now()
        spent = await _spend_link(uow.session, token, EMAIL_VERIFICATION, now)
        if spent is None:
            raise link_invalid()
        row = (await uow.session.execute(select(accounts).where(accounts.c.passport_id == spent.passport_id).with_for_update())).first()
        if row is None:
            raise link_invalid()
        if normalise_email(spent.email) != row.email_normalised:
            try:
                async with uow.session.begin_nested():
                    await uow.session.execute(
                        update(accounts)
                        .where(accounts.c.passport_id == row.passport_id)
                        .values(email=spent.email, email_normalised=normalise_email(spent.email), email_verified_at=now, updated_at=now)
                    )
            except IntegrityError:
                raise Problem(409, "email_taken", "该邮箱已被其他账号使用") from None
            await uow.publish(
                AccountEmailChanged(passport_id=row.passport_id, old_email=row.email, email=spent.email, changed_at=now), key=row.passport_id
            )
        else:
            await uow.session.execute(update(accounts).where(accounts.c.passport_id == row.passport_id).values(email_verified_at=now))
        await uow.commit()


async def resend_verification(ctx: Passport, *, passport_id: str) -> None:
    async with ctx.unit_of_work() as uow:
        row = (await uow.session.execute(select(accounts).where(accounts.c.passport_id == passport_id))).first()
        if row.email_verified_at is not None:
            raise Problem(409, "email_already_verified", "邮箱已验证")
        await _queue_verification(ctx, uow.session, passport_id, row.email)
        await uow.commit()


async def request_email_change(ctx: Passport, *, passport_id: str, new_email: str, captcha_token: str, captcha_answer: str) -> None:
    """P6: the new address becomes the account's email only once its link is followed."""
    async with ctx.unit_of_work() as uow:
        await ctx.captcha.verify(uow.session, captcha_token, captcha_answer, clock=ctx.clock)
        taken = await uow.session.scalar(
            select(accounts.c.passport_id).where(accounts.c.email_normalised == normalise_email(new_email), accounts.c.passport_id != passport_id)
        )
        if taken:
            # Same answer as for a free address (no enumeration); the address's owner is told.
            await queue_mail(
                uow.session,
                to=new_email.strip(),
                subject="CET报名网 邮箱修改提醒",
                body="您好！\n\n有人申请将另一个通行证的邮箱改为本邮箱。本邮箱已注册通行证，该申请未生效。如非本人操作，请忽略本邮件。\n",
            )
        else:
            await _queue_verification(ctx, uow.session, passport_id, new_email.strip())
        await uow.commit()


async def update_profile(ctx: Passport, *, passport_id: str, profile: Profile) -> None:
    async with ctx.unit_of_work() as uow:
        await uow.session.execute(
            update(accounts)
            .where(accounts.c.passport_id == passport_id)
            .values(phone=profile.phone, id_type=profile.id_type, id_number=profile.id_number, name=profile.name, updated_at=ctx.clock.now())
        )
        await uow.commit()


async def change_password(ctx: Passport, *, passport_id: str, old_password: str, new_password: str, confirm_password: str) -> None:
    """P7: old password + new password. Other sessions end, as after a reset."""
    async with ctx.unit_of_work() as uow:
        row = (await uow.session.execute(select(accounts).where(accounts.c.passport_id == passport_id).with_for_update())).first()
        if not await _verify(ctx, row.password_hash, old_password):
            raise Problem(400, "old_password_wrong", "原密码错误")
        _check_new_password(new_password, confirm_password, row.email)
        version = await uow.session.scalar(
            update(accounts)
            .where(accounts.c.passport_id == passport_id)
            .values(password_hash=await _hash(ctx, new_password), token_version=accounts.c.token_version + 1, updated_at=ctx.clock.now())
            .returning(accounts.c.token_version)
        )
        await _end_older_sessions(ctx, uow, passport_id, version, "password_change")
        await uow.commit()


async def create_staff(ctx: Passport, *, email: str, password: str, roles: frozenset[str], school_code: str | None) -> str:
    """The ops command behind `passport-admin create-staff`: a passport account with staff roles."""
    try:
        check_password_strength(password, email=email)
    except WeakPassword as exc:
        raise weak_password(str(exc)) from None
    if "teacher" in roles and not (school_code and len(school_code) == 5 and school_code.isdigit()):
        raise Problem(422, "school_code_required", "教师账号须指定5位学校代码")
    passport_id = new_passport_id()
    async with ctx.unit_of_work() as uow:
        now = ctx.clock.now()
        try:
            async with uow.session.begin_nested():
                await uow.session.execute(
                    insert(accounts).values(
                        passport_id=passport_id,
                        email=email,
                        email_normalised=normalise_email(email),
                        email_verified_at=now,
                        password_hash=await _hash(ctx, password),
                        roles=sorted(roles),
                        school_code=school_code if "teacher" in roles else None,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise Problem(409, "email_taken", "该邮箱已注册") from None
        await uow.publish(AccountRegistered(passport_id=passport_id, email=email, registered_at=now), key=passport_id)
        await audit.record(uow.session, "staff.created", ("account", passport_id), after={"roles": sorted(roles), "school_code": school_code}, school=school_code if "teacher" in roles else None)
        await uow.commit()
    return passport_id
