"""Failure classes (issue 10): what a retry can get past, and what it cannot."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, NotLeaderForPartitionError
from sqlalchemy import exc as sa_exc

from cet_shared.resilience import Backoff, is_conflict, is_transient, sqlstate


def wrapped(error: Exception) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises a driver error."""
    return sa_exc.DBAPIError("SELECT 1", {}, error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),  # 57P01
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),  # 57P03
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),  # 53300
        asyncpg.exceptions.SerializationError("could not serialize access"),  # 40001
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),  # 40P01
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        KafkaConnectionError("broker away"),
        NotLeaderForPartitionError(),
    ],
)
def test_transient_failures_are_waited_out(error):
    assert is_transient(error) and is_transient(wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a handler bug"),
        KeyError("payload"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.CheckViolationError("check constraint"),
    ],
)
def test_permanent_failures_are_not(error):
    assert not is_transient(error) and not is_transient(wrapped(error))


def test_conflicts_are_the_deadlock_and_serialization_victims_only():
    assert is_conflict(wrapped(asyncpg.exceptions.DeadlockDetectedError("x"))) and sqlstate(wrapped(asyncpg.exceptions.SerializationError("x"))) == "40001"
    assert not is_conflict(wrapped(asyncpg.exceptions.AdminShutdownError("x")))


def test_backoff_grows_with_jitter_up_to_its_cap():
    backoff = Backoff(first=0.1, cap=1.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert 0.05 <= delays[0] <= 0.1 and all(0.5 <= d <= 1.0 for d in delays[4:])
    assert len(set(delays)) > 1
