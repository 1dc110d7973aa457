"""An in-memory unit of work for passport's use cases (cosmicpython's FakeUnitOfWork): the ports of
passport.service.ports on dictionaries. Entering takes a copy of the committed state; `commit`
makes the copy the committed state; leaving without commit drops it — a rollback, as on PostgreSQL."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from cet_shared import audit
from cet_shared.captcha import captcha_wrong
from cet_shared.clock import Clock
from cet_shared.events.contracts import SessionsRevoked
from cet_shared.events.envelope import Event
from cet_shared.problems import too_many_requests
from cet_shared.ratelimit import RateLimit
from passport.domain.accounts import Account, Profile, normalise_email
from passport.domain.links import LinkToken
from passport.domain.sessions import RefreshToken
from passport.domain.staff import LoginChallenge, StaffSecondFactor
from passport.mail_templates import Mail


@dataclass
class State:
    accounts: dict[str, Account] = field(default_factory=dict)
    links: dict[str, tuple[LinkToken, datetime | None]] = field(default_factory=dict)  # hash -> (link, used at)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    mail: list[Mail] = field(default_factory=list)
    events: list[tuple[Event, str]] = field(default_factory=list)
    revocations: list[SessionsRevoked] = field(default_factory=list)
    captchas: dict[str, str] = field(default_factory=dict)  # unspent captcha token -> its answer
    hits: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (limit, subject, window) -> count
    audit: list[dict[str, Any]] = field(default_factory=list)  # the rows cet_shared.audit.record would write
    staff: dict[str, StaffSecondFactor] = field(default_factory=dict)
    staff_logins: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # last log-in: (when, from where)
    recovery_codes: dict[tuple[str, str], datetime | None] = field(default_factory=dict)  # (passport id, hash) -> used at
    challenges: dict[str, LoginChallenge] = field(default_factory=dict)


class FakeAccounts:
    def __init__(self, state: State) -> None:
        self._state = state

    async def by_email(self, email: str) -> Account | None:
        return next((a for a in self._state.accounts.values() if a.email_normalised == normalise_email(email)), None)

    async def get(self, passport_id: str, *, for_update: bool = False) -> Account | None:
        return self._state.accounts.get(passport_id)

    async def add(self, account: Account, *, now: datetime) -> bool:
        if await self.by_email(account.email) is not None:
            return False
        self._state.accounts[account.passport_id] = account
        return True

    async def email_taken(self, email: str, *, other_than: str) -> bool:
        found = await self.by_email(email)
        return found is not None and found.passport_id != other_than

    def _change(self, passport_id: str, **fields: object) -> Account:
        changed = self._state.accounts[passport_id] = replace(self._state.accounts[passport_id], **fields)  # type: ignore[arg-type]
        return changed

    async def set_password_hash(self, passport_id: str, password_hash: str) -> None:
        self._change(passport_id, password_hash=password_hash)

    async def change_password(self, passport_id: str, password_hash: str, *, now: datetime) -> int:
        version = self._state.accounts[passport_id].token_version + 1
        return self._change(passport_id, password_hash=password_hash, token_version=version).token_version

    async def set_profile(self, passport_id: str, profile: Profile, *, now: datetime) -> None:
        self._change(passport_id, profile=profile)

    async def set_email(self, passport_id: str, email: str, *, now: datetime) -> bool:
        if await self.email_taken(email, other_than=passport_id):
            return False
        self._change(passport_id, email=email, email_verified_at=now)
        return True

    async def mark_email_verified(self, passport_id: str, *, now: datetime) -> None:
        self._change(passport_id, email_verified_at=now)


class FakeLinkTokens:
    def __init__(self, state: State) -> None:
        self._state = state

    async def add(self, link: LinkToken) -> None:
        self._state.links[link.token_hash] = (link, None)

    async def spend(self, token_hash: str, purpose: str, *, now: datetime) -> LinkToken | None:
        link, used_at = self._state.links.get(token_hash, (None, None))
        if link is None or used_at is not None or link.purpose != purpose or link.expires_at <= now:
            return None
        self._state.links[token_hash] = (link, now)
        return link


class FakeRefreshTokens:
    def __init__(self, state: State) -> None:
        self._state = state

    async def add(self, token: RefreshToken) -> None:
        self._state.refresh_tokens[token.token_hash] = token

    async def get_for_update(self, token_hash: str) -> RefreshToken | None:
        return self._state.refresh_tokens.get(token_hash)

    async def mark_used(self, token_hash: str, *, now: datetime) -> None:
        self._state.refresh_tokens[token_hash] = replace(self._state.refresh_tokens[token_hash], used_at=now)

    def _revoke(self, chosen: list[RefreshToken], now: datetime) -> list[RefreshToken]:
        for token in chosen:
            if token.revoked_at is None:
                self._state.refresh_tokens[token.token_hash] = replace(token, revoked_at=now)
        return [self._state.refresh_tokens[t.token_hash] for t in chosen]

    async def revoke_family(self, family_id: str, *, now: datetime) -> list[RefreshToken]:
        return self._revoke([t for t in self._state.refresh_tokens.values() if t.family_id == family_id], now)

    async def revoke_account(self, passport_id: str, *, now: datetime) -> None:
        self._revoke([t for t in self._state.refresh_tokens.values() if t.passport_id == passport_id], now)


class FakeOutbox:
    def __init__(self, state: State) -> None:
        self._state = state

    async def queue_mail(self, mail: Mail) -> None:
        self._state.mail.append(mail)


class FakeGuards:
    """Captchas the test issued (`FakeUnitOfWork.captcha`), spent by any answer; fixed-window counts."""

    def __init__(self, state: State, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    async def verify_captcha(self, token: str, answer: str) -> None:
        if self._state.captchas.pop(token, None) != answer.strip().upper():
            raise captcha_wrong()

    def _key(self, limit: RateLimit, subject: str) -> tuple[str, str, int]:
        seconds = int(limit.window.total_seconds())
        return (limit.name, subject, int(self._clock.now().timestamp()) // seconds)

    def _refuse(self, limit: RateLimit) -> None:
        seconds = int(limit.window.total_seconds())
        raise too_many_requests(seconds - int(self._clock.now().timestamp()) % seconds + 1)

    async def check(self, *checks: tuple[RateLimit, str]) -> None:
        for limit, subject in checks:
            if self._state.hits.get(self._key(limit, subject), 0) >= limit.limit:
                self._refuse(limit)

    async def record(self, *hits: tuple[RateLimit, str]) -> None:
        for limit, subject in hits:
            key = self._key(limit, subject)
            self._state.hits[key] = self._state.hits.get(key, 0) + 1

    async def consume(self, limit: RateLimit, subject: str) -> None:
        await self.record((limit, subject))
        if self._state.hits[self._key(limit, subject)] > limit.limit:
            self._refuse(limit)


class FakeAudit:
    def __init__(self, state: State) -> None:
        self._state = state

    async def record(
        self,
        kind: str,
        subject: tuple[str, str],
        *,
        before: Any = None,
        after: Any = None,
        school: str | None = None,
        province: str | None = None,
    ) -> None:
        actor = audit.current_actor()
        self._state.audit.append(
            {"kind": kind, "subject": subject, "before": before, "after": after, "school": school, "province": province, "actor": (actor.id, actor.role)}
        )


class FakeStaffLogIns:
    def __init__(self, state: State) -> None:
        self._state = state

    async def second_factor(self, passport_id: str, *, province_code: str | None) -> StaffSecondFactor:
        return self._state.staff.setdefault(passport_id, StaffSecondFactor(passport_id, province_code=province_code))

    def _change(self, passport_id: str, **fields: Any) -> None:
        self._state.staff[passport_id] = replace(self._state.staff[passport_id], **fields)

    async def set_totp_secret(self, passport_id: str, secret: str) -> None:
        self._change(passport_id, totp_secret=secret)

    async def signed_in(self, passport_id: str, *, now: datetime, client: str, step: int | None, confirmed: bool) -> None:
        self._state.staff_logins[passport_id] = (now, client)
        if step is not None:
            self._change(passport_id, totp_last_step=step)
        if confirmed:
            self._change(passport_id, totp_confirmed_at=now)

    async def replace_recovery_codes(self, passport_id: str, code_hashes: list[str]) -> None:
        self._state.recovery_codes = {key: used for key, used in self._state.recovery_codes.items() if key[0] != passport_id}
        self._state.recovery_codes.update({(passport_id, h): None for h in code_hashes})

    async def spend_recovery_code(self, passport_id: str, code_hash: str, *, now: datetime) -> bool:
        key = (passport_id, code_hash)
        if key not in self._state.recovery_codes or self._state.recovery_codes[key] is not None:
            return False
        self._state.recovery_codes[key] = now
        return True

    async def add_challenge(self, challenge: LoginChallenge, *, now: datetime) -> None:
        self._state.challenges = {h: c for h, c in self._state.challenges.items() if c.expires_at >= now}
        self._state.challenges[challenge.token_hash] = challenge

    async def live_challenge(self, token_hash: str, *, now: datetime, max_failures: int) -> LoginChallenge | None:
        found = self._state.challenges.get(token_hash)
        live = found is not None and found.used_at is None and found.expires_at > now and found.failures < max_failures
        return found if live else None

    async def challenge_failed(self, token_hash: str) -> None:
        found = self._state.challenges[token_hash]
        self._state.challenges[token_hash] = replace(found, failures=found.failures + 1)

    async def challenge_spent(self, token_hash: str, *, now: datetime) -> None:
        self._state.challenges[token_hash] = replace(self._state.challenges[token_hash], used_at=now)


class FakeUnitOfWork:
    def __init__(self, clock: Clock) -> None:
        self.committed = State()
        self._clock = clock
        self.commits = 0
        self._working: State | None = None
        self._captchas_issued = 0

    def captcha(self, answer: str = "K7PX") -> tuple[str, str]:
        """A fresh captcha (token, answer), as passport's /captcha would hand one out."""
        self._captchas_issued += 1
        token = f"captcha-{self._captchas_issued}"
        self.committed.captchas[token] = answer
        return token, answer

    async def __aenter__(self) -> Self:
        assert self._working is None, "one transaction at a time"
        self._working = copy.deepcopy(self.committed)
        self.accounts = FakeAccounts(self._working)
        self.links = FakeLinkTokens(self._working)
        self.refresh_tokens = FakeRefreshTokens(self._working)
        self.outbox = FakeOutbox(self._working)
        self.guards = FakeGuards(self._working, self._clock)
        self.audit = FakeAudit(self._working)
        self.staff = FakeStaffLogIns(self._working)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._working = None  # what was not committed is gone

    async def publish(self, event: Event, *, key: str) -> None:
        assert self._working is not None
        self._working.events.append((event, key))

    async def record_revocation(self, event: SessionsRevoked) -> None:
        assert self._working is not None
        self._working.revocations.append(event)

    async def commit(self) -> None:
        assert self._working is not None, "commit outside a transaction"
        self.committed = copy.deepcopy(self._working)
        self.commits += 1
