"""The composition root: everything enrolment needs, wired once (api lifespan, worker, CLI or a test)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cet_shared.clock import Clock, SystemClock
from cet_shared.db import UnitOfWork, create_engine, create_session_factory, normalise_async_url
from cet_shared.db.engine import asyncpg_options, tune_asyncpg_connection
from enrolment.db.hold_batches import HoldBatches
from enrolment.db.hold_store import open_hold_store
from enrolment.service.enrol import HoldStore
from enrolment.service.full_campuses import CHANNEL, MEMORY, FullCampuses
from enrolment.settings import EnrolmentSettings


@dataclass
class EnrolmentContainer:
    """What the entry points hand to use cases, piece by piece: a use case receives the unit of
    work factory, the clock and the settings it uses, never this container."""

    settings: EnrolmentSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    _driver_pool: asyncpg.Pool | None = field(default=None, repr=False)
    _driver_pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _listener: asyncpg.Connection | None = field(default=None, repr=False)
    _listen_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _listen_again_at: float = field(default=0.0, repr=False)
    hold_batches: HoldBatches = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.hold_batches = HoldBatches(self.driver_pool)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, producer="enrolment")

    def hold_stores(self) -> AbstractAsyncContextManager[HoldStore]:
        """A candidate's click's store on one pooled asyncpg connection (`service.enrol`)."""
        return open_hold_store(self.driver_pool, self.hold_batches)

    async def driver_pool(self) -> asyncpg.Pool:
        """Plain asyncpg connections for the sign-up peak's hot path (the oral hold): a few SQL
        statements sent as they are, without the ORM session's per-statement work. Created in the
        event loop that first needs it, so it lives where the requests run."""
        if self._driver_pool is None:
            async with self._driver_pool_lock:
                if self._driver_pool is None:
                    self._driver_pool = await asyncpg.create_pool(
                        self._driver_url(),
                        min_size=1,
                        max_size=self.settings.db_pool_size,
                        **asyncpg_options("enrolment"),
                        init=_json_codecs,
                        reset=_nothing_to_reset,
                    )
        return self._driver_pool

    async def full_campuses(self) -> FullCampuses:
        """This process's remembered "full" offerings, LISTENing for seats coming back (started on
        first use; while no listener is up nothing is remembered and every click asks the database)."""
        if MEMORY.listening or time.monotonic() < self._listen_again_at:
            return MEMORY
        async with self._listen_lock:
            if MEMORY.listening:
                return MEMORY
            self._listen_again_at = time.monotonic() + 1.0  # a database that is down is asked again a second later
            try:
                connection = await asyncpg.connect(self._driver_url(), **asyncpg_options("enrolment-seats-back"))
                await connection.add_listener(CHANNEL, _on_seat_back)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                return MEMORY
            connection.add_termination_listener(lambda _: MEMORY.listening_lost())
            self._listener = connection
            MEMORY.listening_started()
        return MEMORY

    def _driver_url(self) -> str:
        return normalise_async_url(self.settings.database_url).replace("postgresql+asyncpg://", "postgresql://", 1)

    async def close(self) -> None:
        if self._listener is not None:
            MEMORY.listening_lost()
            await self._listener.close()
            self._listener = None
        if self._driver_pool is not None:
            await self._driver_pool.close()
            self._driver_pool = None
        await self.engine.dispose()


def _on_seat_back(_connection: object, _pid: int, _channel: str, payload: str) -> None:
    MEMORY.seat_back(uuid.UUID(payload))


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """The pool still rolls back a transaction left open (a cancelled request); the hot path sets no
    session state, LISTENs, cursors or advisory locks, so the default reset query (a round trip on
    every release) has nothing to undo."""


async def _json_codecs(connection: asyncpg.Connection) -> None:
    tune_asyncpg_connection(connection)
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def bootstrap(settings: EnrolmentSettings | None = None, *, clock: Clock | None = None) -> EnrolmentContainer:
    settings = settings or EnrolmentSettings()
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, application_name="enrolment")
    return EnrolmentContainer(settings=settings, engine=engine, sessions=create_session_factory(engine), clock=clock or SystemClock())
