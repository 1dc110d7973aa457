"""O4: every service owns its database; services coordinate through Kafka events only.

Checked two ways: no service's code imports another service (so nothing can read another's
tables or call its code), and each service's database role is refused on the other databases.
"""

from __future__ import annotations

import ast
from pathlib import Path

import asyncpg
import pytest

from cet_shared.testing import required_env

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("passport", "eligibility", "enrolment", "payment")


def imported_top_level_packages(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_o4_no_service_imports_another_service(service):
    others = set(SERVICES) - {service}
    offenders = {}
    for source in (REPO / "services" / service).rglob("*.py"):
        crossing = imported_top_level_packages(source) & others
        if crossing:
            offenders[str(source.relative_to(REPO))] = sorted(crossing)
    assert offenders == {}, f"{service} reaches into other services: {offenders}"


def test_o4_shared_package_knows_no_service():
    for source in (REPO / "shared" / "src").rglob("*.py"):
        assert not imported_top_level_packages(source) & set(SERVICES), source


async def test_o4_each_service_role_reaches_only_its_own_database():
    urls = {service: required_env(f"DATABASE_URL_{service.upper()}").replace("postgresql+asyncpg://", "postgresql://") for service in SERVICES}
    for service, url in urls.items():
        own = await asyncpg.connect(url)
        try:
            assert await own.fetchval("SELECT current_database()") == service
        finally:
            await own.close()
        for other in set(SERVICES) - {service}:
            foreign = url.rsplit("/", 1)[0] + "/" + other
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await asyncpg.connect(foreign)
