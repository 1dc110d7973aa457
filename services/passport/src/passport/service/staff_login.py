"""Staff log in with a second factor (issue 15): the password first, then a TOTP code from an
authenticator app (or a single-use recovery code). At the first log-in the console shows a QR
code and the otpauth URI to enrol; the first right code confirms it and returns ten recovery
codes, shown once and stored hashed. Staff sessions are shorter than candidates'
(`staff_access_token_lifetime`). The candidate log-in (`POST /sessions`) refuses staff accounts,
so the second factor cannot be skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert

from cet_shared.problems import Problem
from cet_shared.ratelimit import RateLimit
from passport.bootstrap import PassportContainer
from passport.db.tables import accounts, staff_accounts, staff_login_challenges, staff_recovery_codes
from passport.domain import totp
from passport.domain.accounts import hash_opaque_token, new_opaque_token, normalise_email
from passport.domain.staff import province_of_school, signs_in_with_second_factor
from passport.service.problems import invalid_credentials
from passport.service.sessions import open_session


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


def _limits(ctx: PassportContainer) -> tuple[RateLimit, RateLimit]:
    s = ctx.settings
    return (
        RateLimit("staff-login-account", s.login_failures_per_account, s.login_failure_window),
        RateLimit("staff-login-client", s.login_failures_per_client, s.login_failure_window),
    )


async def begin(ctx: PassportContainer, *, email: str, password: str, captcha_token: str, captcha_answer: str, client: str) -> Challenge:
    per_account, per_client = _limits(ctx)
    email_key = normalise_email(email)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        await per_client.check(session, client, clock=ctx.clock)
        await per_account.check(session, email_key, clock=ctx.clock)
        await ctx.captcha.verify(session, captcha_token, captcha_answer, clock=ctx.clock)
        row = (
            await session.execute(
                select(accounts.c.passport_id, accounts.c.email, accounts.c.password_hash, accounts.c.roles, accounts.c.school_code)
                .where(accounts.c.email_normalised == email_key)
            )
        ).first()
        if row is None:  # an unknown email costs one verification too (no enumeration by timing, as P2)
            await ctx.passwords.verify_nothing(password)
        ok = row is not None and await ctx.passwords.verify(row.password_hash, password)
        if not row or not ok or not signs_in_with_second_factor(row.roles):
            await per_client.record(session, client, clock=ctx.clock)
            await per_account.record(session, email_key, clock=ctx.clock)
            await uow.commit()
            raise invalid_credentials()
        await session.execute(
            upsert(staff_accounts).values(passport_id=row.passport_id, province_code=province_of_school(row.school_code) if row.school_code else None)
            .on_conflict_do_nothing()
        )
        staff = (await session.execute(select(staff_accounts).where(staff_accounts.c.passport_id == row.passport_id).with_for_update())).one()
        if staff.disabled_at is not None:
            raise _account_disabled()
        enrolment = None
        if staff.totp_confirmed_at is None:
            # Not enrolled yet: a fresh seed each time until a code confirms one.
            enrolment = totp.enrolment(totp.new_secret(), account=row.email, issuer=ctx.settings.totp_issuer)
            await session.execute(update(staff_accounts).where(staff_accounts.c.passport_id == row.passport_id).values(totp_secret=enrolment.secret))
        token, token_hash = new_opaque_token()
        lifetime = ctx.settings.staff_login_challenge_lifetime
        await session.execute(
            insert(staff_login_challenges).values(token_hash=token_hash, passport_id=row.passport_id, expires_at=ctx.clock.now() + lifetime)
        )
        await session.execute(delete(staff_login_challenges).where(staff_login_challenges.c.expires_at < ctx.clock.now()))
        await uow.commit()
    return Challenge(token=token, second_factor="enrol" if enrolment else "totp", expires_in=int(lifetime.total_seconds()), enrolment=enrolment)


async def finish(ctx: PassportContainer, *, challenge: str, code: str | None, recovery_code: str | None, client: str) -> StaffSession:
    """The second step: a right code spends the challenge and issues a staff token; a wrong one
    counts against the challenge (at most `staff_login_challenge_failures`)."""
    now = ctx.clock.now()
    async with ctx.unit_of_work() as uow:
        session = uow.session
        ticket = (
            await session.execute(
                select(staff_login_challenges).where(
                    staff_login_challenges.c.token_hash == hash_opaque_token(challenge),
                    staff_login_challenges.c.used_at.is_(None),
                    staff_login_challenges.c.expires_at > now,
                    staff_login_challenges.c.failures < ctx.settings.staff_login_challenge_failures,
                ).with_for_update()
            )
        ).first()
        if ticket is None:
            raise _challenge_invalid()
        staff = (await session.execute(select(staff_accounts).where(staff_accounts.c.passport_id == ticket.passport_id).with_for_update())).one()
        if staff.disabled_at is not None:
            raise _account_disabled()
        enrolling = staff.totp_confirmed_at is None
        step = totp.accepted_step(staff.totp_secret, code, now=now, last_used_step=staff.totp_last_step) if code and staff.totp_secret else None
        spent_recovery = None
        if step is None and recovery_code and not enrolling:
            spent_recovery = await session.scalar(
                update(staff_recovery_codes)
                .where(staff_recovery_codes.c.passport_id == ticket.passport_id, staff_recovery_codes.c.code_hash == totp.hash_recovery_code(recovery_code),
                       staff_recovery_codes.c.used_at.is_(None))
                .values(used_at=now).returning(staff_recovery_codes.c.code_hash)
            )
        if step is None and spent_recovery is None:
            await session.execute(
                update(staff_login_challenges).where(staff_login_challenges.c.token_hash == ticket.token_hash)
                .values(failures=staff_login_challenges.c.failures + 1)
            )
            await uow.commit()
            raise _code_wrong()
        await session.execute(update(staff_login_challenges).where(staff_login_challenges.c.token_hash == ticket.token_hash).values(used_at=now))
        changes: dict = {"last_login_at": now, "last_login_address": client}
        if step is not None:
            changes["totp_last_step"] = step
        codes = None
        if enrolling:
            changes["totp_confirmed_at"] = now
            codes = totp.new_recovery_codes()
            await session.execute(delete(staff_recovery_codes).where(staff_recovery_codes.c.passport_id == ticket.passport_id))
            await session.execute(
                insert(staff_recovery_codes), [{"passport_id": ticket.passport_id, "code_hash": totp.hash_recovery_code(c)} for c in codes]
            )
        await session.execute(update(staff_accounts).where(staff_accounts.c.passport_id == ticket.passport_id).values(**changes))
        account = await uow.accounts.get(ticket.passport_id)
        assert account is not None, "a challenge outlives no account"
        # Shorter than a candidate's, and without a refresh token: the next session takes the second factor again.
        opened = await open_session(
            uow, account, signer=ctx.signer, clock=ctx.clock, refresh_lifetime=None,
            access_lifetime=ctx.settings.staff_access_token_lifetime, province_code=staff.province_code,
        )
        await uow.commit()
    return StaffSession(access_token=opened.access_token, passport_id=opened.passport_id, expires_in=opened.expires_in, recovery_codes=codes)
