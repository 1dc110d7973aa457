"""Staff log in with a second factor (issue 15): the password first, then a TOTP code from an
authenticator app (or a single-use recovery code). At the first log-in the console shows a QR
code and the otpauth URI to enrol; the first right code confirms it and returns ten recovery
codes, shown once and stored hashed. Staff sessions are shorter than candidates'
(`staff_access_token_lifetime`). The candidate log-in (`POST /sessions`) refuses staff accounts,
so the second factor cannot be skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cet_shared import audit
from cet_shared.clock import Clock
from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from cet_shared.tokens import TokenSigner
from passport.domain import totp
from passport.domain.accounts import hash_opaque_token, new_opaque_token
from passport.domain.staff import LoginChallenge, province_of_school, signs_in_with_second_factor
from passport.service.log_in import Credentials, authenticate
from passport.service.passwords import Passwords
from passport.service.ports import PassportUnitOfWork
from passport.service.sessions import open_session
from passport.settings import PassportSettings


def _account_disabled() -> Problem:
    return Problem(403, "account_disabled", "账号已停用，请联系考试中心")


def _challenge_invalid() -> Problem:
    return Problem(401, "staff_challenge_invalid", "登录已超时，请重新输入账号和密码")


def _code_wrong() -> Problem:
    return Problem(401, "second_factor_invalid", "动态验证码或恢复码错误")


@dataclass(frozen=True)
class Challenge:
    token: str
    second_factor: Literal["enrol", "totp"]
    expires_in: int
    enrolment: totp.Enrolment | None = None


@dataclass(frozen=True)
class StaffSession:
    access_token: str
    passport_id: str
    expires_in: int
    recovery_codes: list[str] | None = None  # only when the second factor was just enrolled


def _limits(settings: PassportSettings) -> tuple[RateLimit, RateLimit]:
    return (
        RateLimit("staff-login-account", settings.login_failures_per_account, settings.login_failure_window),
        RateLimit("staff-login-client", settings.login_failures_per_client, settings.login_failure_window),
    )


async def begin(uow: PassportUnitOfWork, credentials: Credentials, *, passwords: Passwords, clock: Clock, settings: PassportSettings) -> Challenge:
    authenticated = await authenticate(
        uow, credentials, passwords=passwords, limits=_limits(settings), admits=lambda account: signs_in_with_second_factor(account.roles)
    )
    account = authenticated.account
    async with uow:
        if authenticated.new_password_hash is not None:
            await uow.accounts.set_password_hash(account.passport_id, authenticated.new_password_hash)
        province = province_of_school(account.school_code) if account.school_code else None
        staff = await uow.staff.second_factor(account.passport_id, province_code=province)
        if staff.disabled_at is not None:
            raise _account_disabled()
        enrolment = None
        if staff.totp_confirmed_at is None:
            # Not enrolled yet: a fresh seed each time until a code confirms one.
            enrolment = totp.enrolment(totp.new_secret(), account=account.email, issuer=settings.totp_issuer)
            await uow.staff.set_totp_secret(account.passport_id, enrolment.secret)
        token, token_hash = new_opaque_token()
        lifetime = settings.staff_login_challenge_lifetime
        now = clock.now()
        await uow.staff.add_challenge(LoginChallenge(token_hash, account.passport_id, now + lifetime), now=now)
        await uow.commit()
    return Challenge(token=token, second_factor="enrol" if enrolment else "totp", expires_in=int(lifetime.total_seconds()), enrolment=enrolment)


async def finish(
    uow: PassportUnitOfWork,
    challenge: str,
    *,
    code: str | None,
    recovery_code: str | None,
    client: str,
    signer: TokenSigner,
    clock: Clock,
    settings: PassportSettings,
) -> StaffSession:
    """The second step: a right code spends the challenge and issues a staff token; a wrong one
    counts against the challenge (at most `staff_login_challenge_failures`)."""
    now = clock.now()
    async with uow:
        ticket = await uow.staff.live_challenge(hash_opaque_token(challenge), now=now, max_failures=settings.staff_login_challenge_failures)
        account = await uow.accounts.get(ticket.passport_id) if ticket else None
        if ticket is None or account is None:
            raise _challenge_invalid()
        staff = await uow.staff.second_factor(ticket.passport_id, province_code=None)
        if staff.disabled_at is not None:
            raise _account_disabled()
        enrolling = staff.totp_confirmed_at is None
        step = totp.accepted_step(staff.totp_secret, code, now=now, last_used_step=staff.totp_last_step) if code and staff.totp_secret else None
        spent_recovery = (
            step is None
            and recovery_code is not None
            and not enrolling
            and await uow.staff.spend_recovery_code(ticket.passport_id, totp.hash_recovery_code(recovery_code), now=now)
        )
        if step is None and not spent_recovery:
            await uow.staff.challenge_failed(ticket.token_hash)
            await uow.commit()
            raise _code_wrong()
        await uow.staff.challenge_spent(ticket.token_hash, now=now)
        codes = None
        if enrolling:
            codes = totp.new_recovery_codes()
            await uow.staff.replace_recovery_codes(ticket.passport_id, [totp.hash_recovery_code(c) for c in codes])
        await uow.staff.signed_in(ticket.passport_id, now=now, client=client, step=step, confirmed=enrolling)
        role = next(iter(sorted(account.roles)), "staff")
        with audit.acting_as(audit.Actor(ticket.passport_id, role, address=client)):  # no token stands behind a log-in yet
            await uow.audit.record(
                "staff.logged_in",
                ("account", ticket.passport_id),
                after={"second_factor": "enrolled" if enrolling else "code" if code else "recovery_code"},
                school=account.school_code,
                province=staff.province_code,
            )
        # Shorter than a candidate's, and without a refresh token: the next session takes the second factor again.
        opened = await open_session(
            uow,
            account,
            signer=signer,
            clock=clock,
            refresh_lifetime=None,
            access_lifetime=settings.staff_access_token_lifetime,
            province_code=staff.province_code,
        )
        await uow.commit()
    return StaffSession(access_token=opened.access_token, passport_id=opened.passport_id, expires_in=opened.expires_in, recovery_codes=codes)
