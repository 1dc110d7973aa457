"""The fixtures every service's tests use, as a pytest plugin (entry point `pytest11: cet`).

A service's conftest names the service once and builds its own container on these:

    @pytest.fixture(scope="session")
    def service_admin() -> ServiceAdmin:
        return ADMIN                       # <service>.cli.ADMIN

    @pytest.fixture
    async def ctx(settings):               # settings from `database_url`
        container = bootstrap(settings, clock=...)
        yield container
        await discard(container)           # its tables emptied, then closed

- `database_url`: the service's throw-away database on the real PostgreSQL, migrated with the
  service's own Alembic history (the common history included), dropped at the end;
- `tokens` (session): access tokens minted with a key made for this run (`TestTokens`);
- `empty_database(engine)`: every table emptied after a test, identities restarted (`discard(container)`:
  that, then the container closed);
- `asgi_client(app, base_url)`: the app's lifespan run, an httpx client on its ASGI transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cet_shared.testing import TestTokens, throwaway_database

# A client address from TEST-NET-3: rate limits and audit lines see a stable, fictitious peer.
TEST_CLIENT = ("203.0.113.7", 5000)


class ThrowawayDatabases:
    """One migrated database per service and test session, made when a test first needs it
    (a run may cover several services: each conftest names its own `service_admin`)."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self._stack = stack
        self._urls: dict[str, str] = {}

    async def url(self, admin: Any) -> str:
        if admin.service not in self._urls:
            url = await self._stack.enter_async_context(throwaway_database(admin.service))
            await asyncio.to_thread(admin.migrate, url)
            self._urls[admin.service] = url
        return self._urls[admin.service]


@pytest.fixture(scope="session")
async def throwaway_databases() -> AsyncIterator[ThrowawayDatabases]:
    async with AsyncExitStack() as stack:
        yield ThrowawayDatabases(stack)


@pytest.fixture
async def database_url(service_admin: Any, throwaway_databases: ThrowawayDatabases) -> str:
    """`service_admin`: the service's `cet_shared.admin.ServiceAdmin`, from its conftest."""
    return await throwaway_databases.url(service_admin)


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


async def empty_database(engine: AsyncEngine) -> None:
    """Empty every table but Alembic's (CASCADE: foreign keys between them)."""
    async with engine.begin() as connection:
        tables = (
            (await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))).scalars().all()
        )
        await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


async def discard(container: Any) -> None:
    """After a test: its tables emptied, then the container's pools and clients closed."""
    await empty_database(container.engine)
    await container.close()


@asynccontextmanager
async def asgi_client(app: Any, base_url: str, *, client: tuple[str, int] | None = TEST_CLIENT) -> AsyncIterator[Any]:
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport, AsyncClient

    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app, client=client or ("127.0.0.1", 123)), base_url=base_url) as http:
        yield http
