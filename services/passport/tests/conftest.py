"""Passport tests run against a real PostgreSQL: one throw-away database per test session,
migrated with the service's own Alembic history, emptied after every test (cet_shared.pytest_plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from httpx import AsyncClient

from cet_shared.admin import ServiceAdmin
from cet_shared.clock import ManualClock
from cet_shared.pytest_plugin import asgi_client, discard
from passport.api.app import create_app
from passport.bootstrap import PassportContainer, bootstrap
from passport.cli import ADMIN
from passport.settings import PassportSettings

TEST_CAPTCHA_SECRET = "test-only-captcha-secret-not-for-production"


@pytest.fixture(scope="session")
def service_admin() -> ServiceAdmin:
    """Which service `database_url` (cet_shared.pytest_plugin) migrates."""
    return ADMIN


@pytest.fixture(scope="session")
def jwt_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signing key made for this test run only."""
    path = tmp_path_factory.mktemp("keys") / "jwt-ed25519.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


@pytest.fixture
def settings(database_url: str, jwt_key_file: Path) -> PassportSettings:
    return PassportSettings(
        database_url=database_url,
        jwt_private_key_file=str(jwt_key_file),
        captcha_secret=TEST_CAPTCHA_SECRET,
        environment="test",
        login_failures_per_account=5,
        login_failures_per_client=20,
        db_pool_size=5,
        campus_base_url="http://campus.cet.test",
        public_base_url="https://cet.test",
    )


@pytest.fixture
async def ctx(settings: PassportSettings) -> AsyncIterator[PassportContainer]:
    passport = bootstrap(settings, clock=ManualClock())
    yield passport
    await discard(passport)


@pytest.fixture
async def client(ctx: PassportContainer) -> AsyncIterator[AsyncClient]:
    app = create_app(ctx)
    async with asgi_client(app, "http://passport.test") as http:
        yield http


class Captchas:
    """Tests solve captchas by sealing a known answer with the same secret the service uses."""

    def __init__(self, ctx: PassportContainer) -> None:
        self._ctx = ctx

    def solved(self, answer: str = "K7PX") -> dict[str, str]:
        return {"captcha_token": self._ctx.captcha.seal(answer, clock=self._ctx.clock, ttl=timedelta(minutes=5)), "captcha_answer": answer}


@pytest.fixture
def captchas(ctx: PassportContainer) -> Captchas:
    return Captchas(ctx)


GOOD_PASSWORD = "Cet2017-pass"


class AccountsApi:
    """The calls most tests make, through the HTTP API like the portal does."""

    def __init__(self, client: AsyncClient, captchas: Captchas) -> None:
        self.client = client
        self.captchas = captchas

    async def register(self, email: str = "liaoxiaoer@example.com", password: str = GOOD_PASSWORD, **extra):
        body = {"email": email, "password": password, "confirm_password": password, **self.captchas.solved(), **extra}
        return await self.client.post("/accounts", json=body)

    async def log_in(self, email: str = "liaoxiaoer@example.com", password: str = GOOD_PASSWORD):
        return await self.client.post("/sessions", json={"email": email, "password": password, **self.captchas.solved()})

    async def signup(self, email: str = "liaoxiaoer@example.com", password: str = GOOD_PASSWORD, **extra) -> str:
        """Register and log in; returns the new passport id as the account page shows it."""
        registered = await self.register(email, password, **extra)
        assert registered.status_code == 202, registered.text
        me = await self.client.get("/me", headers=await self.bearer(email, password))
        return me.json()["passport_id"]

    async def bearer(self, email: str = "liaoxiaoer@example.com", password: str = GOOD_PASSWORD) -> dict[str, str]:
        response = await self.log_in(email, password)
        assert response.status_code == 200, response.text
        return {"authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def api(client: AsyncClient, captchas: Captchas) -> AccountsApi:
    return AccountsApi(client, captchas)
