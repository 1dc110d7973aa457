"""Password hashing for the use cases: argon2id off the event loop, and the new-password checks."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from passport.domain.accounts import WeakPassword, check_password_strength, new_opaque_token
from passport.service.problems import passwords_differ, weak_password


class Passwords:
    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        # One hash of a random password, verified against when the email is unknown, so a log-in
        # for a missing account costs as long as one for a real account (P2: no enumeration by timing).
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_nothing(self, password: str) -> None:
        """Spend what a verification costs, for an email without an account."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(new_opaque_token()[0])
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


def check_new_password(password: str, confirm: str, *, email: str | None) -> None:
    if password != confirm:
        raise passwords_differ()
    try:
        check_password_strength(password, email=email)
    except WeakPassword as exc:
        raise weak_password(str(exc)) from None
