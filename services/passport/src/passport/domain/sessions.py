"""Refresh tokens: a session outlives its short access tokens without a password hash per renewal.

Each refresh token works once. Using it hands out its successor in the same family; a token used
a second time means two parties hold it (a stolen cookie, or a thief who refreshed first), so the
whole family is revoked and both must log in again (RFC 9700 §4.14.2, refresh token rotation).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from passport.domain.accounts import Account


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str  # SHA-256 of the opaque token; the token itself is only ever in the cookie
    family_id: str  # every token descended from one log-in
    passport_id: str
    token_version: int  # the account's version at log-in: a password change ends the family
    issued_at: datetime
    expires_at: datetime  # the family's: rotation does not extend a session past its log-in's lifetime
    access_token_id: str  # the jti of the access token issued with it, revoked if the family is
    access_expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def successor(self, *, token_hash: str, access_token_id: str, access_expires_at: datetime, now: datetime) -> RefreshToken:
        return replace(self, token_hash=token_hash, issued_at=now, access_token_id=access_token_id, access_expires_at=access_expires_at, used_at=None)


class RefreshVerdict(enum.Enum):
    ROTATE = "rotate"  # hand out the successor
    REUSED = "reused"  # already rotated once: revoke the family
    REFUSED = "refused"  # unknown, expired, revoked, or from before a password change


def judge_refresh(token: RefreshToken | None, account: Account | None, *, now: datetime) -> RefreshVerdict:
    if token is None or account is None or token.revoked_at is not None or token.expires_at <= now:
        return RefreshVerdict.REFUSED
    if token.used_at is not None:
        return RefreshVerdict.REUSED
    if token.token_version != account.token_version:
        return RefreshVerdict.REFUSED
    return RefreshVerdict.ROTATE


def live_access_tokens(family: list[RefreshToken], *, now: datetime) -> list[RefreshToken]:
    """The family's access tokens that have not expired yet: the ones a revocation must name."""
    return [t for t in family if t.access_expires_at > now]
