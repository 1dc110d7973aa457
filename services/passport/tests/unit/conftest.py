"""The unit tier: passport's use cases on the in-memory unit of work (fakes.py) — no PostgreSQL,
no Kafka, no HTTP; real argon2id (at a cost the tier can afford), real signed tokens, a manual clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cet_shared.clock import ManualClock
from cet_shared.tokens import TokenSigner

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the tests import fakes.py beside them

from fakes import FakeUnitOfWork
from support import CHEAP, START

from passport.domain.links import LinkBuilder
from passport.service.passwords import Passwords
from passport.settings import PassportSettings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def uow(clock: ManualClock) -> FakeUnitOfWork:
    return FakeUnitOfWork(clock)


@pytest.fixture
def settings() -> PassportSettings:
    # Nothing here connects: the database URL and key file are never opened.
    return PassportSettings(
        database_url="postgresql+asyncpg://unused/unused",
        jwt_private_key_file="unused",
        environment="test",
        argon2_memory_kib=CHEAP["memory_cost"],
        argon2_time_cost=CHEAP["time_cost"],
    )


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(PasswordHasher(**CHEAP))


@pytest.fixture
def signer(settings: PassportSettings) -> TokenSigner:
    return TokenSigner(Ed25519PrivateKey.generate(), issuer="cet-passport", audience="cet-suite", lifetime=settings.access_token_lifetime)


@pytest.fixture
def links() -> LinkBuilder:
    return LinkBuilder(campus_base_url="http://campus.cet.test", public_base_url="https://cet.test/portal/")
