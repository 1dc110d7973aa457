"""What passport's use cases need from the outside, as small protocols: PostgreSQL behind them in
production (passport.db.repositories), dictionaries in the unit tier (tests/unit/fakes.py)."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from cet_shared.events.contracts import SessionsRevoked
from cet_shared.events.envelope import Event
from cet_shared.ratelimit import RateLimit
from passport.domain.accounts import Account, Profile
from passport.domain.links import LinkToken
from passport.domain.sessions import RefreshToken
from passport.domain.staff import LoginChallenge, StaffSecondFactor
from passport.mail_templates import Mail


class Accounts(Protocol):
    async def by_email(self, email: str) -> Account | None: ...

    async def get(self, passport_id: str, *, for_update: bool = False) -> Account | None: ...

    async def add(self, account: Account, *, now: datetime) -> bool:
        """False when the email already has an account (P1: unique case-insensitively)."""
        ...

    async def email_taken(self, email: str, *, other_than: str) -> bool: ...

    async def set_password_hash(self, passport_id: str, password_hash: str) -> None:
        """A rehash with new parameters: same password, sessions go on."""
        ...

    async def change_password(self, passport_id: str, password_hash: str, *, now: datetime) -> int:
        """A new password: bumps and returns the token version, so older tokens stop working."""
        ...

    async def set_profile(self, passport_id: str, profile: Profile, *, now: datetime) -> None: ...

    async def set_email(self, passport_id: str, email: str, *, now: datetime) -> bool:
        """Make `email` the account's (verified) address; False when another account has it."""
        ...

    async def mark_email_verified(self, passport_id: str, *, now: datetime) -> None: ...


class LinkTokens(Protocol):
    async def add(self, link: LinkToken) -> None: ...

    async def spend(self, token_hash: str, purpose: str, *, now: datetime) -> LinkToken | None:
        """Mark the token used, atomically (of two concurrent uses only one wins); None if unusable."""
        ...


class RefreshTokens(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_for_update(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_hash: str, *, now: datetime) -> None: ...

    async def revoke_family(self, family_id: str, *, now: datetime) -> list[RefreshToken]:
        """Revoke every token of the family; returns them."""
        ...

    async def revoke_account(self, passport_id: str, *, now: datetime) -> None: ...


class StaffLogIns(Protocol):
    """Staff log-in's second factor (issue 15): enrolment, challenges, recovery codes."""

    async def second_factor(self, passport_id: str, *, province_code: str | None) -> StaffSecondFactor:
        """Locked for the transaction; made on the first log-in (accounts from passport-admin have none)."""
        ...

    async def set_totp_secret(self, passport_id: str, secret: str) -> None: ...

    async def signed_in(self, passport_id: str, *, now: datetime, client: str, step: int | None, confirmed: bool) -> None: ...

    async def replace_recovery_codes(self, passport_id: str, code_hashes: list[str]) -> None: ...

    async def spend_recovery_code(self, passport_id: str, code_hash: str, *, now: datetime) -> bool: ...

    async def add_challenge(self, challenge: LoginChallenge, *, now: datetime) -> None:
        """Also sweeps the expired ones."""
        ...

    async def live_challenge(self, token_hash: str, *, now: datetime, max_failures: int) -> LoginChallenge | None:
        """Unused, unexpired and under the failure bound; locked for the transaction."""
        ...

    async def challenge_failed(self, token_hash: str) -> None: ...

    async def challenge_spent(self, token_hash: str, *, now: datetime) -> None: ...


class Outbox(Protocol):
    """What leaves with the commit: mail for the worker to deliver."""

    async def queue_mail(self, mail: Mail) -> None: ...


class Guards(Protocol):
    """Captchas (P3) and rate limits, both kept in the service's database."""

    async def verify_captcha(self, token: str, answer: str) -> None: ...

    async def check(self, *checks: tuple[RateLimit, str]) -> None:
        """Refuse when any (limit, subject) already used up its window: one round trip for all."""

    async def record(self, *hits: tuple[RateLimit, str]) -> None:
        """Count one hit for each (limit, subject)."""

    async def consume(self, limit: RateLimit, subject: str) -> None: ...


class Audit(Protocol):
    """Who did what to whom, recorded with the change (cet_shared.audit): staff acts are audited."""

    async def record(
        self,
        kind: str,
        subject: tuple[str, str],
        *,
        before: Any = None,
        after: Any = None,
        school: str | None = None,
        province: str | None = None,
    ) -> None: ...


class PassportUnitOfWork(Protocol):
    """One business transaction; `async with uow:` may be entered again after it ends."""

    accounts: Accounts
    links: LinkTokens
    refresh_tokens: RefreshTokens
    outbox: Outbox
    guards: Guards
    audit: Audit
    staff: StaffLogIns

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None: ...

    async def publish(self, event: Event, *, key: str) -> None: ...

    async def record_revocation(self, event: SessionsRevoked) -> None:
        """Passport refuses the tokens at once (its own table); the event tells the other services."""
        ...

    async def commit(self) -> None: ...
