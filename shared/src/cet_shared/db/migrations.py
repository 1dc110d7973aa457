"""Alembic, driven from code: each service keeps its own history in `<service>/db/migrations`.

`env.py` of a service is two lines calling `run_migrations_from_env(metadata)`; the CLI and tests
call `upgrade(url, script_location)`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from cet_shared.db.engine import normalise_async_url


def alembic_config(url: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # '%' must be escaped for configparser; passwords may contain it.
    config.set_main_option("sqlalchemy.url", normalise_async_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, script_location: Path, revision: str = "heads") -> None:
    """To every head: branches added side by side (e.g. the dead-letter tables) all apply."""
    command.upgrade(alembic_config(url, script_location), revision)


def run_migrations_from_env(target_metadata: MetaData) -> None:
    """Body of a service's `env.py` (online mode only: we always migrate a live database)."""
    url = context.config.get_main_option("sqlalchemy.url")

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())
