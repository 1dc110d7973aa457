"""Connections to PostgreSQL that notice a dead database or a dead link within seconds.

Every connection of every process (SQLAlchemy engines, enrolment's plain asyncpg pool) gets:
- a connect timeout and a per-statement `command_timeout`: a request never hangs on a stopped or
  unreachable database, it fails fast and is answered 503 (`cet_shared.problems`);
- TCP keepalives and TCP_USER_TIMEOUT on our side, keepalives on the server's side: a link cut
  without a RST (a partition, a frozen host) is noticed by both ends in seconds, not hours;
- `idle_in_transaction_session_timeout`: a frozen process cannot keep row locks for long.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 3.0
# A blackholed link costs a pre-ping (command timeout) and a reconnect (connect timeout): 9 s, under
# the 10 s a request may take at most.
COMMAND_TIMEOUT_SECONDS = 6.0
# Waiting in line for a pooled connection during a burst is fine; during an outage connections fail
# fast (refused, or the connect timeout), so the line does not grow past it.
POOL_TIMEOUT_SECONDS = 10.0
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 5, 2, 3
# Unacknowledged data for this long means the link is gone (Linux: TCP_USER_TIMEOUT, in ms).
USER_TIMEOUT_MS = 12_000


def server_settings(application_name: str) -> dict[str, str]:
    return {
        "application_name": application_name,
        "timezone": "UTC",
        "tcp_keepalives_idle": str(KEEPALIVE_IDLE),
        "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL),
        "tcp_keepalives_count": str(KEEPALIVE_COUNT),
        "idle_in_transaction_session_timeout": "60s",
    }


def tune_socket(sock: Any) -> None:
    """Client-side keepalives on one connection's socket (best effort: not every OS has them all)."""
    if sock is None:
        return
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
        ("TCP_USER_TIMEOUT", USER_TIMEOUT_MS),
    ):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    for level, option, value in options:
        try:
            sock.setsockopt(level, option, value)
        except OSError:  # e.g. a Unix socket
            return


def tune_asyncpg_connection(connection: Any) -> None:
    transport = getattr(connection, "_transport", None)
    tune_socket(transport.get_extra_info("socket") if transport is not None else None)


def asyncpg_options(application_name: str) -> dict[str, Any]:
    """Keyword arguments for `asyncpg.connect`/`create_pool` with the same timeouts as the engines."""
    return {"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": COMMAND_TIMEOUT_SECONDS, "server_settings": server_settings(application_name)}


def normalise_async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as psql and ops tools use) and speak asyncpg."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    application_name: str = "cet",
    command_timeout: float = COMMAND_TIMEOUT_SECONDS,
) -> AsyncEngine:
    engine = create_async_engine(
        normalise_async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={**asyncpg_options(application_name), "command_timeout": command_timeout},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _keepalives(dbapi_connection: Any, _record: Any) -> None:
        tune_asyncpg_connection(getattr(dbapi_connection, "driver_connection", None))

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
