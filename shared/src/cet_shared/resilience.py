"""Telling a passing fault from a real error, and waiting it out the same way everywhere.

A *transient* failure is one that the same work, tried again later, can get past: the database
restarting, failing over or refusing connections, a cut or frozen link (timeouts), a deadlock or
serialization victim, a Kafka broker that is away. Everything else is *permanent* for the work at
hand: retrying the same input gives the same error.

- consumers back off and see the event again (never a dead letter for a transient failure);
- api requests that hit a deadlock or serialization failure run again, a bounded number of times;
  other transient failures answer 503 with Retry-After (`cet_shared.problems`);
- `retry_transaction` does the same for any unit of work (sweepers, CLIs, use cases).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATE classes and codes that say "not now" rather than "not this".
_TRANSIENT_CLASSES = ("08", "53")  # connection exception, insufficient resources (53300 too many connections)
_TRANSIENT_STATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "57P01",  # admin_shutdown (a fast stop, a failover)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up, shutting down)
    "57P05",  # idle_session_timeout (our own lease ended: see outbox.py)
    "57014",  # query_canceled: statement_timeout
    "55P03",  # lock_not_available: lock_timeout
    "25P03",  # idle_in_transaction_session_timeout
}
CONFLICT_STATES = {"40001", "40P01"}


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what SQLAlchemy wraps (`.orig`, the driver's exception) and its causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), getattr(current, "driver_exception", None), current.__cause__, current.__context__])


def sqlstate(error: BaseException) -> str | None:
    for current in _chain(error):
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and len(state) == 5:
            return state
    return None


def is_conflict(error: BaseException) -> bool:
    """A deadlock victim or a serialization failure: the transaction may simply run again."""
    return sqlstate(error) in CONFLICT_STATES


def is_transient(error: BaseException) -> bool:
    state = sqlstate(error)
    if state is not None:
        return state in _TRANSIENT_STATES or state[:2] in _TRANSIENT_CLASSES
    for current in _chain(error):
        if isinstance(current, (OSError, TimeoutError, asyncio.TimeoutError, sa_exc.TimeoutError)):
            return True  # refused, reset, unreachable; connect/command/pool timeouts
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.InterfaceError) or type(current).__name__ in ("InterfaceError", "ConnectionDoesNotExistError"):
            return True  # asyncpg: "connection is closed", "another operation is in progress" after a cut
        if isinstance(current, (KafkaConnectionError, KafkaTimeoutError)) or (isinstance(current, KafkaError) and current.retriable):
            return True
    return False


class Backoff:
    """Exponential back-off with full jitter: `first`, doubling up to `cap` seconds.

    Jitter spreads the retries of many consumers and requests that failed together (one restart)
    so they do not come back as one wave."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self.first, self.cap = first, cap
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.first * 2 ** (self.failures - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret

    async def wait(self) -> None:
        await asyncio.sleep(self.next_delay())

    def reset(self) -> None:
        self.failures = 0


async def retry_transaction(work: Callable[[], Awaitable[T]], *, attempts: int = 5, what: str = "transaction") -> T:
    """Run `work` (which opens, does and commits its own unit of work) again when PostgreSQL
    chose it as a deadlock or serialization victim; at most `attempts` times, with jitter.
    Anything else, and the last conflict, propagates."""
    backoff = Backoff(first=0.02, cap=0.5)
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as error:
            if attempt == attempts or not is_conflict(error):
                raise
            log.info("%s: %s (attempt %d/%d), running it again", what, sqlstate(error), attempt, attempts)
            await backoff.wait()
    raise AssertionError("unreachable")
