"""Password hashing for the use cases: argon2id off the event loop, and the new-password checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from passport.domain.accounts import WeakPassword, check_password_strength, new_opaque_token
from passport.service.problems import passwords_differ, weak_password

_T = TypeVar("_T")


class Passwords:
    """argon2id in a pool of `threads` threads (argon2-cffi releases the GIL while it hashes), one
    per core: a burst of log-ins waits its turn there, so at most `threads` hashes hold their
    `m` KiB at once (passport's RSS stays bounded) and none of them holds a database connection."""

    def __init__(self, hasher: PasswordHasher, *, threads: int = 1) -> None:
        self._hasher = hasher
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        # One hash of a random password, verified against when the email is unknown, so a log-in
        # for a missing account costs as long as one for a real account (P2: no enumeration by timing).
        self._dummy_hash: str | None = None

    async def _in_pool(self, work: Callable[..., _T], *args: str) -> _T:
        # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="argon2")
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    async def hash(self, password: str) -> str:
        return await self._in_pool(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await self._in_pool(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_nothing(self, password: str) -> None:
        """Spend what a verification costs, for an email without an account."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(new_opaque_token()[0])
        await self.verify(self._dummy_hash, password)

    def close(self) -> None:
        """Stop the threads. Like the engine's dispose, not an end: an app whose lifespan starts
        again (a test client, a restarted server in one process) gets a new pool on its next hash."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

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
