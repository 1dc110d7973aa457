"""P2 log-in: one generic error for a wrong email or password; failures throttled per account and client.

Two steps, so a second factor fits between them: `authenticate` proves the password, `open_session`
(passport.service.sessions) hands out the tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from cet_shared.tokens import TokenSigner
from passport.domain.accounts import Account, normalise_email
from passport.domain.staff import signs_in_with_second_factor
from passport.service.passwords import Passwords
from passport.service.ports import PassportUnitOfWork
from passport.service.problems import invalid_credentials, second_factor_required
from passport.service.sessions import Session, open_session
from passport.settings import PassportSettings


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    captcha_token: str
    captcha_answer: str
    client: str  # the caller's address, for the per-client throttle


def login_limits(settings: PassportSettings) -> tuple[RateLimit, RateLimit]:
    return (
        RateLimit("login-account", settings.login_failures_per_account, settings.login_failure_window),
        RateLimit("login-client", settings.login_failures_per_client, settings.login_failure_window),
    )


@dataclass(frozen=True)
class Authenticated:
    account: Account
    new_password_hash: str | None  # the password hashed again with the current parameters, to store


async def authenticate(
    uow: PassportUnitOfWork,
    credentials: Credentials,
    *,
    passwords: Passwords,
    limits: tuple[RateLimit, RateLimit],
    admits: Callable[[Account], bool] = lambda account: True,
) -> Authenticated:
    """The account whose password this is, among those `admits` lets in (the staff log-in admits
    staff only); a failure is counted against `limits` (per account, per client) and committed
    before it is refused.

    No transaction is open while the hash runs: at the peak log-ins wait their turn for a hashing
    thread (passport.service.passwords), and a pooled connection held meanwhile would starve every
    other request. So: one transaction for the guards and the account (the captcha's nonce is
    committed there), the hash, then the caller's transaction for what the log-in writes."""
    per_account, per_client = limits
    email_key = normalise_email(credentials.email)
    async with uow:
        await uow.guards.check((per_client, credentials.client), (per_account, email_key))
        account = await uow.accounts.by_email(email_key)
        await uow.guards.verify_captcha(credentials.captcha_token, credentials.captcha_answer)
        await uow.commit()  # the captcha is spent, whatever the password turns out to be
    if account is None:
        await passwords.verify_nothing(credentials.password)
    if account is None or not await passwords.verify(account.password_hash, credentials.password) or not admits(account):
        async with uow:
            await uow.guards.record((per_client, credentials.client), (per_account, email_key))
            await uow.commit()
        raise invalid_credentials()
    if passwords.needs_rehash(account.password_hash):
        # Hashed with other parameters (settings changed): this log-in moves the account to the current ones.
        return Authenticated(account, await passwords.hash(credentials.password))
    return Authenticated(account, None)


async def log_in(
    uow: PassportUnitOfWork, credentials: Credentials, *, passwords: Passwords, signer: TokenSigner, clock: Clock, settings: PassportSettings
) -> Session:
    authenticated = await authenticate(uow, credentials, passwords=passwords, limits=login_limits(settings))
    account = authenticated.account
    # A second factor, for the accounts that have one, is checked here: after the password, before any token.
    # Staff have one: they log in at /staff/sessions with their TOTP code (passport.service.staff_login).
    if signs_in_with_second_factor(account.roles):
        raise second_factor_required()
    async with uow:
        if authenticated.new_password_hash is not None:
            await uow.accounts.set_password_hash(account.passport_id, authenticated.new_password_hash)
        session = await open_session(uow, account, signer=signer, clock=clock, refresh_lifetime=settings.refresh_token_lifetime)
        await uow.commit()
    return session
