"""P4 password recovery: a mail with two links to one single-use token, then a new password."""

from __future__ import annotations

from dataclasses import dataclass

from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from passport import mail_templates
from passport.domain.accounts import hash_opaque_token, new_opaque_token, normalise_email
from passport.domain.links import PASSWORD_RESET, LinkBuilder, LinkToken
from passport.service.passwords import Passwords, check_new_password
from passport.service.ports import PassportUnitOfWork
from passport.service.problems import link_invalid, reset_email_mismatch
from passport.service.sessions import end_all_sessions
from passport.settings import PassportSettings


def recovery_limits(settings: PassportSettings) -> tuple[RateLimit, RateLimit]:
    return (
        RateLimit("password-recovery", settings.recovery_requests_per_client, settings.recovery_window),
        RateLimit("password-recovery-account", settings.recovery_requests_per_account, settings.recovery_window),
    )


async def request_password_reset(
    uow: PassportUnitOfWork,
    email: str,
    *,
    captcha_token: str,
    captcha_answer: str,
    client: str,
    clock: Clock,
    links: LinkBuilder,
    settings: PassportSettings,
) -> None:
    """The same answer whether or not the account exists; a mail with two links if it does."""
    per_client, per_account = recovery_limits(settings)
    async with uow:  # counted in a transaction of its own: a wrong captcha still spends the budget
        await uow.guards.consume(per_client, client)
        await uow.guards.consume(per_account, normalise_email(email))
        await uow.commit()
    async with uow:
        await uow.guards.verify_captcha(captcha_token, captcha_answer)
        account = await uow.accounts.by_email(email)
        if account is not None:
            token, token_hash = new_opaque_token()
            lifetime = settings.reset_link_lifetime
            await uow.links.add(LinkToken(token_hash, account.passport_id, PASSWORD_RESET, clock.now() + lifetime))
            await uow.outbox.queue_mail(mail_templates.password_reset(account.email, links.password_reset(token), valid_for=lifetime))
        await uow.commit()


@dataclass(frozen=True)
class PasswordReset:
    """What the link's page sends: the token, the account's email, the new password twice."""

    token: str
    email: str
    password: str
    confirm_password: str


async def reset_password(uow: PassportUnitOfWork, reset: PasswordReset, *, passwords: Passwords, clock: Clock, settings: PassportSettings) -> None:
    """A new password through the mailed link; every older session ends."""
    check_new_password(reset.password, reset.confirm_password, email=reset.email)
    async with uow:
        now = clock.now()
        spent = await uow.links.spend(hash_opaque_token(reset.token), PASSWORD_RESET, now=now)
        if spent is None:
            raise link_invalid()
        account = await uow.accounts.get(spent.passport_id)
        if account is None or account.email_normalised != normalise_email(reset.email):
            raise reset_email_mismatch()  # rolled back: the link stays usable, nothing changes
        version = await uow.accounts.change_password(account.passport_id, await passwords.hash(reset.password), now=now)
        await end_all_sessions(uow, account.passport_id, version, reason="password_reset", now=now, access_lifetime=settings.access_token_lifetime)
        await uow.commit()
