"""Sessions: the access token and refresh token a log-in opens (P2), their renewal without a
password hash (issue 11), and their end — log-out, reuse of a refresh token, a new password (P4, P7).

An ended session's access tokens are revoked the way every token is: `SessionsRevoked`, recorded
here at once and projected by every other service (cet_shared.revocations)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cet_shared.auth import Principal, session_expired
from cet_shared.clock import Clock
from cet_shared.events.contracts import SessionsRevoked
from cet_shared.tokens import TokenSigner
from passport.domain.accounts import Account, hash_opaque_token, new_opaque_token
from passport.domain.sessions import RefreshToken, RefreshVerdict, judge_refresh, live_access_tokens
from passport.service.ports import PassportUnitOfWork


@dataclass(frozen=True)
class Session:
    access_token: str
    passport_id: str
    expires_in: int  # seconds the access token lives
    refresh_token: str | None = None  # none for staff sessions
    refresh_expires_in: int = 0  # seconds until the session ends and the candidate logs in again


async def open_session(
    uow: PassportUnitOfWork,
    account: Account,
    *,
    signer: TokenSigner,
    clock: Clock,
    refresh_lifetime: timedelta | None,
    access_lifetime: timedelta | None = None,
    province_code: str | None = None,
) -> Session:
    """A log-in's access token and the first refresh token of a new family, in the caller's transaction.

    Staff sessions pass a shorter `access_lifetime`, their province, and no `refresh_lifetime`: a
    staff member logs in again, with the second factor, when the access token ends."""
    now = clock.now()

    def first(token_hash: str, access_token_id: str, access_expires_at: datetime) -> RefreshToken:
        assert refresh_lifetime is not None
        return RefreshToken(
            token_hash=token_hash,
            family_id=uuid.uuid4().hex,
            passport_id=account.passport_id,
            token_version=account.token_version,
            issued_at=now,
            expires_at=now + refresh_lifetime,
            access_token_id=access_token_id,
            access_expires_at=access_expires_at,
        )

    return await _hand_out(
        uow,
        account,
        signer=signer,
        now=now,
        record=first if refresh_lifetime else None,
        lifetime=access_lifetime or signer.lifetime,
        province_code=province_code,
    )


async def _hand_out(
    uow: PassportUnitOfWork,
    account: Account,
    *,
    signer: TokenSigner,
    now: datetime,
    record: Callable[[str, str, datetime], RefreshToken] | None,
    lifetime: timedelta | None = None,
    province_code: str | None = None,
) -> Session:
    lifetime = lifetime or signer.lifetime
    token_id = uuid.uuid4().hex
    access = signer.issue(
        passport_id=account.passport_id,
        roles=list(account.roles),
        token_version=account.token_version,
        school_code=account.school_code,
        now=now,
        token_id=token_id,
        province_code=province_code,
        lifetime=lifetime,
    )
    expires_in = int(lifetime.total_seconds())
    if record is None:
        return Session(access_token=access, passport_id=account.passport_id, expires_in=expires_in)
    refresh, refresh_hash = new_opaque_token()
    stored = record(refresh_hash, token_id, now + lifetime)
    await uow.refresh_tokens.add(stored)
    return Session(
        access_token=access,
        passport_id=account.passport_id,
        expires_in=expires_in,
        refresh_token=refresh,
        refresh_expires_in=int((stored.expires_at - now).total_seconds()),
    )


async def refresh_session(uow: PassportUnitOfWork, refresh_token: str, *, signer: TokenSigner, clock: Clock) -> Session:
    """A new access token (and the refresh token's successor) for a refresh token used once."""
    async with uow:
        now = clock.now()
        current = await uow.refresh_tokens.get_for_update(hash_opaque_token(refresh_token))
        account = await uow.accounts.get(current.passport_id) if current else None
        verdict = judge_refresh(current, account, now=now)
        if verdict is RefreshVerdict.REUSED and current is not None:
            await end_family(uow, current.family_id, reason="refresh_reuse", now=now)
            await uow.commit()
        if verdict is not RefreshVerdict.ROTATE or current is None or account is None:
            raise session_expired()
        await uow.refresh_tokens.mark_used(current.token_hash, now=now)
        session = await _hand_out(
            uow,
            account,
            signer=signer,
            now=now,
            record=lambda token_hash, token_id, expires_at: current.successor(
                token_hash=token_hash, access_token_id=token_id, access_expires_at=expires_at, now=now
            ),
        )
        await uow.commit()
    return session


async def revoke(uow: PassportUnitOfWork, event: SessionsRevoked) -> None:
    """Passport refuses the tokens at once (its own table); the other services when the event reaches them."""
    await uow.record_revocation(event)
    await uow.publish(event, key=event.passport_id)


async def end_family(uow: PassportUnitOfWork, family_id: str, *, reason: Literal["log_out", "refresh_reuse"], now: datetime) -> list[SessionsRevoked]:
    """Revoke a log-in's refresh tokens and every access token of it that still works."""
    family = await uow.refresh_tokens.revoke_family(family_id, now=now)
    events = []
    for token in live_access_tokens(family, now=now):
        event = SessionsRevoked(
            passport_id=token.passport_id, reason=reason, token_id=token.access_token_id, revoked_at=now, expires_at=token.access_expires_at
        )
        await revoke(uow, event)
        events.append(event)
    return events


async def log_out(uow: PassportUnitOfWork, principal: Principal | None, refresh_token: str | None, *, clock: Clock) -> list[SessionsRevoked]:
    """退出: this session's tokens stop working everywhere, not only the cookies in this browser."""
    events: list[SessionsRevoked] = []
    async with uow:
        now = clock.now()
        current = await uow.refresh_tokens.get_for_update(hash_opaque_token(refresh_token)) if refresh_token else None
        if current is not None and (principal is None or principal.passport_id == current.passport_id):
            events += await end_family(uow, current.family_id, reason="log_out", now=now)
        revoked = {event.token_id for event in events}
        # A token from before tokens had ids expires on its own.
        if principal is not None and principal.token_id is not None and principal.token_id not in revoked:
            expires_at = datetime.fromtimestamp(int(principal.claims["exp"]), tz=now.tzinfo)
            event = SessionsRevoked(passport_id=principal.passport_id, reason="log_out", token_id=principal.token_id, revoked_at=now, expires_at=expires_at)
            await revoke(uow, event)
            events.append(event)
        await uow.commit()
    return events


async def end_all_sessions(
    uow: PassportUnitOfWork,
    passport_id: str,
    new_version: int,
    *,
    reason: Literal["password_reset", "password_change"],
    now: datetime,
    access_lifetime: timedelta,
) -> None:
    """After a new password: every token below `new_version` stops working, and no refresh token renews one."""
    await uow.refresh_tokens.revoke_account(passport_id, now=now)
    await revoke(
        uow,
        SessionsRevoked(passport_id=passport_id, reason=reason, token_version_below=new_version, revoked_at=now, expires_at=now + access_lifetime),
    )


async def current_account(uow: PassportUnitOfWork, passport_id: str, token_version: int) -> Account:
    """The account behind a token, refusing tokens issued before the last password change."""
    async with uow:
        account = await uow.accounts.get(passport_id)
    if account is None or account.token_version != token_version:
        raise session_expired()
    return account
