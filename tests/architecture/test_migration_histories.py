"""Every service's migration history builds exactly the schema its code declares (issue 16):
migrated to every head on a real PostgreSQL, `alembic revision --autogenerate` would propose
nothing — neither for the service's own tables nor for the common ones (outbox, inbox, captcha
nonces, rate limits, dead letters, revoked tokens), which come from the frozen common history."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from cet_shared.db.migrations import COMMON_MIGRATIONS, alembic_config, check, new_revision, service_heads, upgrade
from cet_shared.db.tables import COMMON_METADATA
from cet_shared.testing import throwaway_database

SERVICES = ("passport", "eligibility", "enrolment", "payment")


def migrations_of(service: str) -> Path:
    return importlib.import_module(f"{service}.cli").ADMIN.migrations


@pytest.mark.parametrize("service", SERVICES)
async def test_autogenerate_proposes_nothing_for_a_migrated_database(service: str) -> None:
    async with throwaway_database(f"autogen_{service}") as url:
        await asyncio.to_thread(upgrade, url, migrations_of(service))
        # through the service's env.py, as `<service>-admin revision -m …` runs it
        await asyncio.to_thread(check, url, migrations_of(service))


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_history_depends_on_the_frozen_common_history(service: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config("postgresql://unused/", migrations_of(service)))
    first = scripts.get_revision("0001")
    assert first.down_revision is None and "c001" in (first.dependencies or ())
    # every common revision is in the service's history, and no service file creates a common table
    assert {"c001", "c002", "c003"} <= {script.revision for script in scripts.walk_revisions()}
    common_tables = {table for metadata in COMMON_METADATA for table in metadata.tables}
    for path in (migrations_of(service) / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not any(f"create_table('{t}'" in source or f'create_table("{t}"' in source for t in common_tables), path
        assert "create_all" not in source, path
    assert len(service_heads(migrations_of(service))) == 1, "one head: `<svc>-admin revision` follows it"


async def test_the_revision_command_writes_an_empty_next_revision_for_an_unchanged_schema(tmp_path: Path) -> None:
    async with throwaway_database("autogen_revision") as url:
        await asyncio.to_thread(upgrade, url, migrations_of("enrolment"))
        written = Path(await asyncio.to_thread(new_revision, url, migrations_of("enrolment"), "nothing changed", into=tmp_path))
    source = written.read_text(encoding="utf-8")
    (head,) = service_heads(migrations_of("enrolment"))
    assert written.parent == tmp_path and f"down_revision = '{head}'" in source
    assert "op." not in source, source  # autogenerate proposed no operation


def test_the_common_history_alone_builds_the_common_tables_of_the_code() -> None:
    async def run() -> None:
        async with throwaway_database("autogen_common") as url:
            await asyncio.to_thread(upgrade, url, COMMON_MIGRATIONS)
            await asyncio.to_thread(check, url, COMMON_MIGRATIONS)

    asyncio.run(run())
